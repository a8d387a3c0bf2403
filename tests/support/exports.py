"""Entries for the export tests: built in memory, or stored as report rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from app.db import session_scope
from app.models import Report, ReportItem
from app.services.exports.entries import ExportEntry
from app.services.reports.document import DocumentIoc, ItemKind
from app.services.reports.sections import Section
from app.state import AppState

DAY = date(2024, 12, 6)
CREATED = datetime(2024, 12, 6, 1, 2, 3, tzinfo=UTC)
UPDATED = datetime(2024, 12, 6, 4, 5, 6, tzinfo=UTC)
# Values that attack whatever reads them: formulas, quotes, line breaks, markup, JSON.
HOSTILE_TITLE = '=HYPERLINK("http://evil.example/x","click"), "quoted"\r\nline two <script>'


def ioc(type_: str, value: str, *flags: str, defanged: str | None = None) -> DocumentIoc:
    """An indicator as an entry holds it (defanged like the Markdown unless given)."""
    shown = defanged if defanged is not None else value.replace(".", "[.]")
    return DocumentIoc(type_, value, shown, tuple(flags))


def make_entry(
    *iocs: DocumentIoc,
    item_id: int = 1,
    day: date = DAY,
    title: str = "Ember Lynx targets logistics firms",
    url: str | None = "https://news.example.com/ember-lynx",
    sources: tuple[str, ...] = (),
    summary: tuple[str, ...] = ("A campaign against logistics firms.",),
    section: Section = Section.DAILY_NEWS,
    updated_at: datetime = UPDATED,
) -> ExportEntry:
    """An entry of a day, as `entries()` reads it."""
    return ExportEntry(
        day=day,
        item_id=item_id,
        section=section,
        kind=ItemKind.ARTICLE,
        title=title,
        url=url,
        sources=sources,
        summary=summary,
        iocs=tuple(iocs),
        created_at=CREATED,
        updated_at=updated_at,
    )


@dataclass
class StoredItem:
    """A report item to store: what the tests vary, the rest filled in."""

    title: str
    iocs: list[DocumentIoc] = field(default_factory=list)
    url: str | None = "https://news.example.com/story"
    section: Section = Section.DAILY_NEWS
    summary: list[str] = field(default_factory=lambda: ["What happened."])
    sources: list[str] = field(default_factory=list)


async def store_day(
    state: AppState, day: date, items: list[StoredItem], *, at: datetime = UPDATED
) -> list[int]:
    """Store a day's report with these items (written `at`); their ids, in order."""
    async with session_scope(state.sessionmaker) as session:
        report = Report(day=day)
        session.add(report)
        await session.flush()
        rows = []
        for position, item in enumerate(items):
            iocs: list[dict[str, Any]] = [
                {"type": i.type, "value": i.value, "defanged": i.defanged, "flags": list(i.flags)}
                for i in item.iocs
            ]
            row = ReportItem(
                report_id=report.id,
                section=item.section.value,
                position=position,
                kind="article",
                title=item.title,
                url=item.url,
                sources=[{"url": url, "title": None} for url in item.sources],
                summary=item.summary,
                iocs=iocs,
                recommendations=[],
                other=[],
                model_recommendations=[],
                created_at=at,
                updated_at=at,
            )
            session.add(row)
            rows.append(row)
        await session.flush()
        return [row.id for row in rows]
