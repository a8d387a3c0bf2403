"""A day's Markdown read by a real CommonMark parser: the only links are the day's sources.

Hostile text goes into every field that carries outside text (page, model or analyst):
the report title, entry titles, the five lists, IOC display forms, link titles, URLs.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.services.iocs import defang_text
from app.services.markdown import labels_for, parse_report, render_item, render_report
from app.services.reports.document import (
    DocumentIoc,
    DocumentItem,
    DocumentSource,
    ItemKind,
    ReportDocument,
)
from app.services.reports.sections import Section
from tests.support.commonmark import href, read

JA = labels_for("ja")

# Each one, pasted raw into a CommonMark document next to `evil[.]com`, makes a link, an
# image or HTML (test_each_payload_is_live_when_pasted_raw proves it).
HOSTILE = [
    '[.]: //evil.example/p1 "Organizations should patch their systems."',
    "[dot]: //evil.example/p2",
    "[/]: //evil.example/p3",
    "[:]: //evil.example/p4",
    "[@]: //evil.example/p5",
    "[at]: //evil.example/p6",
    "[://]: //evil.example/p7",
    "[.]:<//evil.example/p8>",
    "   [.]: //evil.example/p9",
    "[.]:%20//evil.example/p10",
    "![.] and [x][.] and [.][] and [click](https://evil.example/c)",
    "![x](https://evil.example/i.png)",
    '<img src=x onerror="alert(1)">',
    '<a href="https://evil.example/a">x</a>',
    "<https://evil.example/auto>",
    "<attacker@evil.example>",
    "[x](<https://evil.example/ spaced>)",
]
# What makes a definition (if one exists) visible: defanged indicators, as every day has.
USES = "evil[.]com, 1.2.3[.]4, user[@]evil[.]com, hxxps[://]evil[.]com/x, [dot], [/], [:], [at]"
LINK_URLS = ["https://www.security-next.com/164989", "https://x.com/1ZRR4H/status/1"]


def _hostile_day(payload: str, *, odd_urls: bool = True) -> ReportDocument:
    """A day whose every outside-text field holds `payload`, plus indicators that use it."""
    article = DocumentItem(
        kind=ItemKind.ARTICLE,
        section=Section.DAILY_NEWS,
        title=payload,
        url="https://news.example.com/a",
        summary=[payload, f"Seen: {USES}", payload],
        iocs=[
            DocumentIoc(type="domain", value="evil.com", defanged="evil[.]com"),
            DocumentIoc(type="url", value="https://evil.com/x", defanged="hxxps://evil[.]com/x"),
            DocumentIoc(type="other", value=payload, defanged=payload),
        ],
        recommendations=[payload, USES],
        other=[payload],
        model_recommendations=[payload],
    )
    # An imported digest can put anything on a URL line.
    odd_url_item = DocumentItem(
        kind=ItemKind.ARTICLE,
        section=Section.MALWARE_CAMPAIGN,
        title=USES,
        url=payload,
        summary=[USES],
        sources=[DocumentSource(url=payload), DocumentSource(url="https://other.example/b")],
    )
    links = [
        DocumentItem(kind=ItemKind.LINK, section=Section.JAPAN_INCIDENTS, title=payload, url=url)
        for url in LINK_URLS
    ]
    items = [article, odd_url_item, *links] if odd_urls else [article, *links]
    return ReportDocument(day=date(2024, 12, 6), title=payload, items=items)


@pytest.mark.parametrize("payload", HOSTILE)
def test_each_payload_is_live_when_pasted_raw(payload: str) -> None:
    raw = read(f"- {payload}\n\n{USES}\n")
    assert raw.links or raw.images or raw.html


@pytest.mark.parametrize("payload", HOSTILE)
def test_a_hostile_day_renders_no_link_image_or_html_but_its_link_lines(payload: str) -> None:
    markdown = render_report(_hostile_day(payload), JA)
    rendered = read(markdown)
    assert rendered.links == [href(url) for url in LINK_URLS]
    assert rendered.images == []
    assert rendered.html == []


@pytest.mark.parametrize("payload", HOSTILE)
def test_one_hostile_entry_renders_no_link_image_or_html(payload: str) -> None:
    (article, *_) = _hostile_day(payload).items
    rendered = read(render_item(article, JA))
    assert (rendered.links, rendered.images, rendered.html) == ([], [], [])


def test_defanged_indicators_read_as_text_next_to_a_definition_attempt() -> None:
    rendered = read(render_report(_hostile_day(HOSTILE[0]), JA))
    # Shown as written: the brackets are visible text, not link syntax.
    assert "evil[.]com" in rendered.text
    assert "hxxps://evil[.]com/x" in rendered.text
    assert "user[@]evil[.]com" in rendered.text


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_text_in_every_field_reads_back_as_written(payload: str) -> None:
    # (A URL line that is not a URL is refused on import: the round trip keeps real URLs.)
    parsed = parse_report(render_report(_hostile_day(payload, odd_urls=False), JA))
    article = parsed.items[0]
    # Whitespace folded and indicators defanged, as the digest shows them; nothing else.
    expected = defang_text(" ".join(payload.split()))
    assert parsed.title == expected
    assert article.title == expected
    assert article.summary[0] == expected
    assert article.recommendations[0] == expected
    assert article.other == [expected]
    assert article.model_recommendations == [expected]
    assert article.iocs[-1].defanged == expected
    assert [item.title for item in parsed.items[1:]] == [expected, expected]


def test_a_link_line_url_cannot_leave_its_parentheses() -> None:
    hostile = "https://ok.example/a) [.]: //evil.example/x (b"
    item = DocumentItem(kind=ItemKind.LINK, section=Section.MEMOS, title="t", url=hostile)
    rendered = read(render_report(ReportDocument(day=None, items=[item]), JA))
    assert len(rendered.links) == 1
    assert rendered.links[0].startswith("https://ok.example/a%29%20")
