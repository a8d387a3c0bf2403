"""The report JSON built straight from plain values is the documented ReportRead, byte for byte."""

from __future__ import annotations

from datetime import date

import pytest

from app.schemas.reports import report_json, report_read
from app.services.enrich import CveContext, EpssContext, KevContext
from app.services.markdown import labels_for, parse_report
from app.services.reports.context import DayContext
from app.services.reports.document import (
    DocumentIoc,
    DocumentItem,
    DocumentSource,
    ItemKind,
    ReportDocument,
)
from app.services.reports.sections import Section


def _hostile_day() -> ReportDocument:
    return ReportDocument(
        day=date(2024, 12, 6),
        title='A "quoted" title \\ with 日本語 and \u2028',
        items=[
            DocumentItem(
                kind=ItemKind.ARTICLE,
                section=Section.TOOLS,
                title="t\n2",
                url=None,
                summary=["a", "\x00b"],
                iocs=[
                    DocumentIoc("domain", "evil.com", "evil[.]com", ("benign",)),
                    DocumentIoc("cve", "CVE-2024-3400", "CVE-2024-3400", ()),
                    DocumentIoc("sha256", "a" * 64, "a" * 64, ()),
                ],
                id=7,
                article_id=None,
            ),
            DocumentItem(
                kind=ItemKind.LINK,
                section=Section.MEMOS,
                title="l",
                url="https://x.example/1",
                sources=[DocumentSource(url="https://y.example/2", title=None)],
                id=8,
                article_id=3,
            ),
        ],
    )


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_fast_json_is_the_schemas_json(sample_markdown: str, lang: str) -> None:
    labels = labels_for(lang)
    for document in (parse_report(sample_markdown, day=date(2024, 12, 6)), _hostile_day()):
        documented = report_read(document, labels, lang).model_dump_json().encode()
        assert report_json(document, labels, lang) == documented


def _remembered(day: date) -> DayContext:
    kev = KevContext(
        date_added="2024-04-12", due_date="2024-04-19", known_ransomware_campaign_use="Unknown"
    )
    epss = EpssContext(score=0.94283, percentile=0.99961, date="2024-12-06")
    return DayContext(
        day=day,
        first_seen={("domain", "evil.com"): date(2024, 1, 2), ("cve", "CVE-2024-3400"): day},
        cves={"CVE-2024-3400": CveContext(kev, epss)},
    )


@pytest.mark.parametrize("new_only", [False, True])
def test_the_fast_json_is_the_schemas_json_with_memory(new_only: bool) -> None:
    document = _hostile_day()
    assert document.day is not None
    context = _remembered(document.day)
    labels = labels_for("en")
    documented = report_read(document, labels, "en", context, new_only=new_only)
    fast = report_json(document, labels, "en", context, new_only=new_only)
    assert fast == documented.model_dump_json().encode()
    iocs = {ioc.value: ioc for ioc in documented.sections[0].items[0].iocs}
    cve = iocs["CVE-2024-3400"]
    assert cve.first_seen == document.day
    assert not cve.seen_before
    assert cve.kev is not None
    assert cve.kev.due_date == date(2024, 4, 19)
    assert cve.epss is not None
    assert cve.epss.percentile == 0.99961
    # Not stored as an indicator: no first day, not "seen before", kept as new.
    assert iocs["a" * 64].first_seen is None
    assert not iocs["a" * 64].seen_before
    if new_only:
        assert "evil.com" not in iocs
    else:
        assert iocs["evil.com"].seen_before
        assert iocs["evil.com"].kev is None
