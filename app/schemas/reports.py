"""Daily reports as JSON, for the frontend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from pydantic import BaseModel, Field

from app.schemas.cves import EpssRead, KevRead
from app.schemas.summarize import IocRead
from app.services.markdown.labels import Labels
from app.services.reports.context import DayContext
from app.services.reports.document import DocumentIoc, DocumentItem, ReportDocument
from app.services.reports.sections import Section


class SourceRead(BaseModel):
    """A site that published the entry's story."""

    title: str | None = Field(description="The article's title on that site (None if unknown).")
    url: str


# Where an indicator was written is a property of one article's text; a report entry is
# the day's curated list (imported from Markdown, merged from several sites' articles,
# trimmed by analysts), so its indicators have none: POST /summarize and POST /iocs do.
_NOT_IN_A_REPORT = (
    "Always null in a report (GET and PUT /reports/{date}, its items): an entry may come "
    "from Markdown or from several articles. POST /summarize and POST /iocs fill it."
)


class ReportIocRead(IocRead):
    """An indicator of a report entry, with what the service remembers of it."""

    raw: None = Field(None, description=f"As written in the source. {_NOT_IN_A_REPORT}")
    was_defanged: None = Field(
        None, description=f"The source wrote it defanged. {_NOT_IN_A_REPORT}"
    )
    offset: None = Field(
        None, description=f"Character offset of its first occurrence. {_NOT_IN_A_REPORT}"
    )
    first_seen: dt.date | None = Field(
        description="The first report day it occurred on (null: not stored as an indicator, "
        "e.g. a value over 2,048 bytes)."
    )
    seen_before: bool = Field(description="It occurred in a report of an earlier day.")
    kev: KevRead | None = Field(
        description="A CVE in CISA's Known Exploited Vulnerabilities catalog (null: not "
        "listed, not a CVE, or the catalog not loaded: `secdigest enrich update`)."
    )
    epss: EpssRead | None = Field(
        description="A CVE's FIRST EPSS score (null: none, not a CVE, or not loaded)."
    )


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
    iocs: list[ReportIocRead] = Field(
        description="With `?new_only=true`, only those first seen on the report's day."
    )
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


def _kept(item: DocumentItem, context: DayContext, new_only: bool) -> list[DocumentIoc]:
    if not new_only:
        return item.iocs
    return [ioc for ioc in item.iocs if not context.seen_before(ioc)]


def _report_ioc(ioc: DocumentIoc, context: DayContext) -> dict[str, Any]:
    # The fields of ReportIocRead, in its order (tests compare the bytes with it).
    cve = context.cve(ioc)
    first_seen = context.first_seen_of(ioc)
    return {
        "type": ioc.type,
        "value": ioc.value,
        "defanged": ioc.defanged,
        "raw": None,
        "was_defanged": None,
        "offset": None,
        "flags": list(ioc.flags),
        "first_seen": first_seen and first_seen.isoformat(),
        "seen_before": context.seen_before(ioc),
        "kev": cve.kev,
        "epss": cve.epss,
    }


def report_item_read(
    item: DocumentItem, context: DayContext | None = None, *, new_only: bool = False
) -> ReportItemRead:
    """A digest entry as JSON (without a context: nothing known beyond the entry)."""
    context = context or DayContext(day=dt.date.min)
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
        iocs=[
            ReportIocRead.model_validate(_report_ioc(ioc, context))
            for ioc in _kept(item, context, new_only)
        ],
        recommendations=item.recommendations,
        other=item.other,
        model_recommendations=item.model_recommendations,
        article_id=item.article_id,
    )


def report_read(
    digest: ReportDocument,
    labels: Labels,
    lang: str,
    context: DayContext | None = None,
    *,
    new_only: bool = False,
) -> ReportRead:
    """A day's digest as JSON, every section present and in report order."""
    assert digest.day is not None
    context = context or DayContext(day=digest.day)
    return ReportRead(
        date=digest.day,
        title=digest.title,
        lang=lang,
        item_count=len(digest.items),
        sections=[
            ReportSectionRead(
                key=section,
                heading=labels.sections[section],
                items=[report_item_read(item, context, new_only=new_only) for item in items],
            )
            for section, items in digest.by_section()
        ],
    )


def _item_dict(item: DocumentItem, context: DayContext, new_only: bool) -> dict[str, Any]:
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
        "iocs": [_report_ioc(ioc, context) for ioc in _kept(item, context, new_only)],
        "recommendations": item.recommendations,
        "other": item.other,
        "model_recommendations": item.model_recommendations,
        "article_id": item.article_id,
    }


def report_json(
    digest: ReportDocument,
    labels: Labels,
    lang: str,
    context: DayContext | None = None,
    *,
    new_only: bool = False,
) -> bytes:
    """The bytes of `report_read(...)` as JSON, built from plain values with orjson.

    A 300-entry day is ~1 MB of JSON: one Pydantic object per item and per IOC cost more
    than the rest of its first render. ReportRead stays the documented shape (OpenAPI);
    a test holds the two to the same bytes.
    """
    assert digest.day is not None
    context = context or DayContext(day=digest.day)
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
                    "items": [_item_dict(item, context, new_only) for item in items],
                }
                for section, items in digest.by_section()
            ],
        }
    )
