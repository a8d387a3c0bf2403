"""What the exports are made of: the entries of one day or of a range of days, as rows.

Every export (STIX, TAXII, MISP, CSV, blocklists) is another rendering of the stored report
items; this module is their one read of the database. Rows are read without ORM objects
(a TAXII collection holds every day), with the timestamps the formats need: an entry's
`created_at`, and `updated_at`, which moves when an analyst curates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Report, ReportItem
from app.services.reports.document import DocumentIoc, ItemKind
from app.services.reports.sections import SECTION_RANK, Section

# Real but probably not evidence: left out of exports unless asked for (then labelled).
# The same flags as the IOC engine's (app/services/iocs/flags.py).
EXCLUDED_FLAGS = frozenset(
    {"benign", "source-site", "documentation", "private", "loopback", "link-local", "reserved"}
)


@dataclass(frozen=True, slots=True)
class ExportEntry:
    """One report entry with what an export needs of it."""

    day: date
    item_id: int
    section: Section
    kind: ItemKind
    title: str
    url: str | None
    sources: tuple[str, ...]  # other sites' URLs of the same story
    summary: tuple[str, ...]
    iocs: tuple[DocumentIoc, ...]
    created_at: datetime
    updated_at: datetime

    def exported_iocs(self, *, include_flagged: bool = False) -> list[DocumentIoc]:
        """The entry's indicators an export lists: unflagged ones, or all when asked."""
        if include_flagged:
            return list(self.iocs)
        return [ioc for ioc in self.iocs if not EXCLUDED_FLAGS.intersection(ioc.flags)]


def _entry(row: Any) -> ExportEntry:
    return ExportEntry(
        day=row.day,
        item_id=row.id,
        section=Section(row.section),
        kind=ItemKind(row.kind),
        title=row.title,
        url=row.url,
        sources=tuple(str(s["url"]) for s in row.sources or ()),
        summary=tuple(row.summary or ()),
        iocs=tuple(DocumentIoc.of(i) for i in row.iocs or ()),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def entries(
    session: AsyncSession, *, first: date | None = None, last: date | None = None
) -> list[ExportEntry]:
    """The entries of the days from `first` to `last` (both included; None: no bound), in
    report order: by day, then section, then position."""
    query = (
        select(
            Report.day,
            ReportItem.id,
            ReportItem.section,
            ReportItem.position,
            ReportItem.kind,
            ReportItem.title,
            ReportItem.url,
            ReportItem.sources,
            ReportItem.summary,
            ReportItem.iocs,
            ReportItem.created_at,
            ReportItem.updated_at,
        )
        .join(Report, Report.id == ReportItem.report_id)
        .order_by(Report.day, ReportItem.position, ReportItem.id)
    )
    if first is not None:
        query = query.where(Report.day >= first)
    if last is not None:
        query = query.where(Report.day <= last)
    rows = (await session.execute(query)).all()
    found = [_entry(row) for row in rows]
    # Stable: positions stay in order within a section.
    found.sort(key=lambda e: (e.day, SECTION_RANK.get(e.section.value, 99)))
    return found
