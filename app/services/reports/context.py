"""What the report JSON says of a day's indicators beyond the day: memory and CVE context.

Each indicator carries the first report day it occurred on (the sightings, written by the
database's triggers) and, for a CVE, what the KEV catalog and EPSS say of it (the stored
sources, offline). Both are read in the transaction that reads the day's items, so the
answer is one state of the database; both depend on more than the day itself (an earlier
day, a source loaded), which is why a JSON day is cached per change-clock value
(app/services/reports/reads.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.enrich import CveContext, cve_context
from app.services.memory import first_seen_of
from app.services.reports.document import DocumentIoc, ReportDocument

_NOTHING_KNOWN = CveContext()


@dataclass(frozen=True, slots=True)
class DayContext:
    """The first day of each (type, value) and the context of each CVE of a day's items."""

    day: date
    first_seen: dict[tuple[str, str], date] = field(default_factory=dict)
    cves: dict[str, CveContext] = field(default_factory=dict)

    def first_seen_of(self, ioc: DocumentIoc) -> date | None:
        """The first report day of the indicator; None when it is not stored as one (an
        `other` line, a value over 2,048 bytes)."""
        return self.first_seen.get((ioc.type, ioc.value))

    def seen_before(self, ioc: DocumentIoc) -> bool:
        """Whether the indicator occurred on a day before this one."""
        first = self.first_seen_of(ioc)
        return first is not None and first < self.day

    def cve(self, ioc: DocumentIoc) -> CveContext:
        """The KEV and EPSS context of a CVE (nulls for anything else or nothing known)."""
        if ioc.type != "cve":
            return _NOTHING_KNOWN
        return self.cves.get(ioc.value.upper(), _NOTHING_KNOWN)


async def day_context(session: AsyncSession, document: ReportDocument) -> DayContext:
    """The memory and CVE context of every indicator of the day: three indexed queries."""
    assert document.day is not None, "a stored day's document names its day"
    iocs = [ioc for item in document.items for ioc in item.iocs]
    pairs = {(ioc.type, ioc.value) for ioc in iocs}
    cves = {ioc.value for ioc in iocs if ioc.type == "cve"}
    return DayContext(
        day=document.day,
        first_seen=await first_seen_of(session, pairs) if pairs else {},
        cves=await cve_context(session, cves) if cves else {},
    )
