"""The report JSON built straight from plain values is the documented ReportRead, byte for byte."""

from __future__ import annotations

from datetime import date

import pytest

from app.schemas.reports import report_json, report_read
from app.services.markdown import labels_for, parse_report
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
                iocs=[DocumentIoc("domain", "evil.com", "evil[.]com", ("benign",))],
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
