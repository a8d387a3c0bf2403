"""Daily reports as JSON, for the frontend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from pydantic import BaseModel, Field

from app.schemas.summarize import IocRead
from app.services.markdown.labels import Labels
from app.services.reports.document import DocumentItem, ReportDocument
from app.services.reports.sections import Section


class SourceRead(BaseModel):
    """A site that published the entry's story."""

    title: str | None = Field(description="The article's title on that site (None if unknown).")
    url: str


class ReportItemRead(BaseModel):
    """An entry of the report: a summarized article or a link."""

    id: int | None
    kind: str = Field(description="article or link")
    section: Section
    title: str
    url: str | None
    sources: list[SourceRead] = Field(
        description="Every site that published this story: the entry's own url first, then "
        "other sites' articles merged into it as near-duplicates."
    )
    summary: list[str]
    iocs: list[IocRead]
    recommendations: list[str]
    other: list[str]
    model_recommendations: list[str]
    article_id: int | None


class ReportSectionRead(BaseModel):
    """A section of the report, in report order, with its heading in the report language."""

    key: Section
    heading: str
    items: list[ReportItemRead]


class ReportRead(BaseModel):
    """A day's report."""

    date: dt.date
    title: str
    lang: str
    item_count: int
    sections: list[ReportSectionRead]


class ReportSummaryRead(BaseModel):
    """A day that has a report."""

    date: dt.date
    item_count: int


class ReportListRead(BaseModel):
    """Days that have a report, newest first."""

    reports: list[ReportSummaryRead]


def report_item_read(item: DocumentItem) -> ReportItemRead:
    """A digest entry as JSON."""
    return ReportItemRead(
        id=item.id,
        kind=item.kind.value,
        section=item.section,
        title=item.title,
        url=item.url,
        sources=[
            *([SourceRead(title=item.title, url=item.url)] if item.url else []),
            *(SourceRead(title=s.title, url=s.url) for s in item.sources),
        ],
        summary=item.summary,
        iocs=[IocRead.model_validate(ioc) for ioc in item.iocs],
        recommendations=item.recommendations,
        other=item.other,
        model_recommendations=item.model_recommendations,
        article_id=item.article_id,
    )


def report_read(digest: ReportDocument, labels: Labels, lang: str) -> ReportRead:
    """A day's digest as JSON, every section present and in report order."""
    assert digest.day is not None
    return ReportRead(
        date=digest.day,
        title=digest.title,
        lang=lang,
        item_count=len(digest.items),
        sections=[
            ReportSectionRead(
                key=section,
                heading=labels.sections[section],
                items=[report_item_read(item) for item in items],
            )
            for section, items in digest.by_section()
        ],
    )


def _item_dict(item: DocumentItem) -> dict[str, Any]:
    # The fields of ReportItemRead, in its order (tests compare the bytes with it).
    sources: list[dict[str, str | None]] = (
        [{"title": item.title, "url": item.url}] if item.url else []
    )
    sources += [{"title": s.title, "url": s.url} for s in item.sources]
    return {
        "id": item.id,
        "kind": item.kind.value,
        "section": item.section.value,
        "title": item.title,
        "url": item.url,
        "sources": sources,
        "summary": item.summary,
        "iocs": [
            {
                "type": ioc.type,
                "value": ioc.value,
                "defanged": ioc.defanged,
                "raw": None,
                "was_defanged": None,
                "offset": None,
                "flags": list(ioc.flags),
            }
            for ioc in item.iocs
        ],
        "recommendations": item.recommendations,
        "other": item.other,
        "model_recommendations": item.model_recommendations,
        "article_id": item.article_id,
    }


def report_json(digest: ReportDocument, labels: Labels, lang: str) -> bytes:
    """The bytes of `report_read(...)` as JSON, built from plain values with orjson.

    A 300-entry day is ~1 MB of JSON: one Pydantic object per item and per IOC cost more
    than the rest of its first render. ReportRead stays the documented shape (OpenAPI);
    a test holds the two to the same bytes.
    """
    assert digest.day is not None
    return orjson.dumps(
        {
            "date": digest.day.isoformat(),
            "title": digest.title,
            "lang": lang,
            "item_count": len(digest.items),
            "sections": [
                {
                    "key": section.value,
                    "heading": labels.sections[section],
                    "items": [_item_dict(item) for item in items],
                }
                for section, items in digest.by_section()
            ],
        }
    )
