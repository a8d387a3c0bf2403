"""Days to export: the analysts' sample, a 200-entry day like the benchmarks', hostile values.

Built in memory as `entries()` would read them (ExportEntry), from Markdown parsed by our
own parser, so the values are those an import stores.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from app.services.exports.entries import ExportEntry
from app.services.markdown import parse_report
from app.services.reports.document import DocumentIoc, ItemKind, ReportDocument
from app.services.reports.sections import Section
from bench.read import digest_markdown
from tests.support.paths import FIXTURES

SAMPLE_DAY = date(2024, 12, 6)
BIG_DAY = date(2024, 12, 5)
CREATED = datetime(2024, 12, 6, 1, 2, 3, 456789, tzinfo=UTC)
# Techniques a digest cites: current ones, a sub-technique, a revoked id (T1086, still
# cited by old reports) and an id ATT&CK never had.
TECHNIQUES = ("T1059.001", "T1566", "T1071.001", "T1486", "T1086", "T1999")
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")


def document_entries(
    document: ReportDocument, *, created: datetime = CREATED, first_id: int = 1
) -> list[ExportEntry]:
    """A parsed day's items as export entries, one second apart."""
    assert document.day is not None
    return [
        ExportEntry(
            day=document.day,
            item_id=first_id + number,
            section=item.section,
            kind=item.kind,
            title=item.title,
            url=item.url,
            sources=tuple(source.url for source in item.sources),
            summary=tuple(item.summary),
            iocs=tuple(item.iocs),
            created_at=created + timedelta(seconds=number),
            updated_at=created + timedelta(seconds=number),
        )
        for number, item in enumerate(document.items)
    ]


def sample_entries() -> list[ExportEntry]:
    """The analysts' sample day (no indicators; articles and a link)."""
    markdown = (FIXTURES / "daily-security-info.md").read_text(encoding="utf-8")
    return document_entries(parse_report(markdown, day=SAMPLE_DAY))


def big_day_markdown(entries: int = 200) -> str:
    """A day of `entries` entries in the analysts' format, as bench/read.py writes them."""
    links = entries // 20
    return digest_markdown(seed=15, articles=entries - links, links=links)


def big_day_entries(entries: int = 200) -> list[ExportEntry]:
    """The 200-entry day, plus the CVEs of its titles and ATT&CK techniques (an import
    types only the IOC lines; the pipeline adds both)."""
    found = document_entries(parse_report(big_day_markdown(entries), day=BIG_DAY))
    enriched = []
    for number, entry in enumerate(found):
        extra = [DocumentIoc("cve", cve, cve) for cve in _CVE.findall(entry.title)]
        if entry.kind == ItemKind.ARTICLE and number % 3 == 0:
            technique = TECHNIQUES[number // 3 % len(TECHNIQUES)]
            extra.append(DocumentIoc("attack_technique", technique, technique))
        enriched.append(replace(entry, iocs=entry.iocs + tuple(extra)))
    return enriched


# Values that break a pattern or a reader written carelessly: quotes, backslashes (alone,
# doubled, before a quote), unicode, right-to-left marks, line breaks, IPv6 forms.
HOSTILE_IOCS = (
    DocumentIoc("url", "http://evil.example/it's/a'b", "hxxp://evil[.]example/it's/a'b"),
    DocumentIoc("url", "http://evil.example/c:\\windows\\", "x"),
    DocumentIoc("url", "http://evil.example/end\\'", "x"),
    DocumentIoc("url", "https://例え.jp/パス?q=値#frag", "x"),
    DocumentIoc("url", "http://[2001:db8::1]:8080/x'y", "x"),
    DocumentIoc("domain", "xn--r8jz45g.jp", "x"),
    DocumentIoc("domain", "例え.テスト", "x"),
    DocumentIoc("email", "o'brien@evil.example", "x"),
    DocumentIoc("email", 'quoted"name\\@evil.example', "x"),
    DocumentIoc("ipv6", "2001:db8::dead:beef", "x"),
    DocumentIoc("ipv6", "::ffff:192.0.2.1", "x"),
    DocumentIoc("ipv6", "fe80::1%eth0", "x"),
    DocumentIoc("ipv4", "198.51.100.7", "x"),
    DocumentIoc("md5", "D41D8CD98F00B204E9800998ECF8427E", "x"),
    DocumentIoc("cve", "cve-2024-3400", "x"),
    DocumentIoc("attack_technique", "t1059.001", "x"),
    DocumentIoc("other", "line one\nline two ' \\", "x"),
)


def hostile_entries() -> list[ExportEntry]:
    """Two entries whose every text field is hostile, sharing some indicators."""
    first = ExportEntry(
        day=SAMPLE_DAY,
        item_id=41,
        section=Section.MALWARE_CAMPAIGN,
        kind=ItemKind.ARTICLE,
        title='"Quoted" \\ title \u202eevil\u202c with <script>alert(1)</script>\r\nand a break',
        url="https://news.example/it's?a=1&b='2'",
        sources=("https://other.example/\\back'slash", "not a url at all", "http://[::1"),
        summary=('It\'s "quoted" \\ and\nbroken', "日本語の要約。", "\x00\x1f control"),
        iocs=HOSTILE_IOCS,
        created_at=CREATED,
        updated_at=CREATED + timedelta(hours=2),
    )
    second = replace(
        first,
        item_id=42,
        title="A second story citing some of the same values",
        url=None,
        sources=(),
        summary=(),
        iocs=HOSTILE_IOCS[:3],
        created_at=CREATED - timedelta(hours=1),
        updated_at=CREATED + timedelta(hours=5),
    )
    return [first, second]
