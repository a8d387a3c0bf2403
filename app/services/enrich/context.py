"""The read side: a CVE's KEV and EPSS context, its status per source, the entries citing it.

Offline first: a CVE without stored data (or with no update ever run) gets nulls, never
an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import EnrichmentSource, EpssScore, Indicator, KevEntry, ReportItem, Sighting
from app.services.enrich.catalog import SOURCES, cve_id
from app.services.iocs import IocType

# Ids per IN list: far below SQLite's and asyncpg's parameter limits.
_CHUNK = 500
# The newest entries citing one CVE that are listed (a famous CVE is cited daily).
MAX_CITING = 1000


class KevContext(TypedDict):
    """A CVE's entry in CISA's KEV catalog (dates as YYYY-MM-DD)."""

    date_added: str
    due_date: str
    known_ransomware_campaign_use: str  # "Known" or "Unknown"


class EpssContext(TypedDict):
    """A CVE's EPSS score and percentile (0 to 1) of the file's day (YYYY-MM-DD)."""

    score: float
    percentile: float
    date: str


@dataclass(frozen=True, slots=True)
class CveContext:
    """What the stored sources say about one CVE; None where a source has nothing."""

    kev: KevContext | None = None
    epss: EpssContext | None = None


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


async def cve_context(session: AsyncSession, ids: Iterable[str]) -> dict[str, CveContext]:
    """Each id's context, keyed by the id upper-cased (stripped); JSON-ready values.

    Every id given has an entry (nulls when nothing is stored, or when it is not a CVE
    id); two queries per 500 distinct ids, one per table.
    """
    keys = {str(raw).strip().upper() for raw in ids}
    wanted = sorted(key for key in keys if cve_id(key) is not None)
    kev: dict[str, KevContext] = {}
    epss: dict[str, EpssContext] = {}
    for chunk in _chunks(wanted):
        for k in await session.execute(
            select(
                KevEntry.cve_id,
                KevEntry.date_added,
                KevEntry.due_date,
                KevEntry.known_ransomware_campaign_use,
            ).where(KevEntry.cve_id.in_(chunk))
        ):
            kev[k[0]] = KevContext(
                date_added=k[1].isoformat(),
                due_date=k[2].isoformat(),
                known_ransomware_campaign_use=k[3],
            )
        for e in await session.execute(
            select(EpssScore.cve_id, EpssScore.score, EpssScore.percentile, EpssScore.date).where(
                EpssScore.cve_id.in_(chunk)
            )
        ):
            epss[e[0]] = EpssContext(score=e[1], percentile=e[2], date=e[3].isoformat())
    return {key: CveContext(kev.get(key), epss.get(key)) for key in keys}


@dataclass(frozen=True, slots=True)
class CitingEntry:
    """A report entry whose indicators list the CVE."""

    date: date
    item_id: int
    title: str
    url: str | None
    section: str


async def citing_entries(session: AsyncSession, cve: str) -> list[CitingEntry]:
    """The report entries citing a CVE id (upper case), newest day first, then newest entry.

    Read from the sightings of the CVE's indicator, which the database's triggers keep in
    step with the entries' `iocs` (a curated removal is gone at once): one backward scan of
    ix_sightings_timeline. The value is matched exactly as the IOC engine stores it
    (`CVE-2024-1234`), so CVE-2024-1234 never matches CVE-2024-12345.
    """
    rows = await session.execute(
        select(
            Sighting.day,
            Sighting.report_item_id,
            ReportItem.title,
            ReportItem.url,
            ReportItem.section,
        )
        .join(Indicator, Indicator.id == Sighting.indicator_id)
        .join(ReportItem, ReportItem.id == Sighting.report_item_id)
        .where(Indicator.type == IocType.CVE.value, Indicator.value == cve)
        .order_by(Sighting.day.desc(), Sighting.report_item_id.desc())
        .limit(MAX_CITING)
    )
    return [
        CitingEntry(date=r[0], item_id=r[1], title=r[2], url=r[3], section=r[4]) for r in rows.all()
    ]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How a source stands: what is stored and how the last update went."""

    name: str
    status: str | None  # updated, unchanged, failed; None: never updated
    rows: int
    data_date: date | None
    version: str | None
    etag: str | None
    last_modified: str | None
    fetched_at: datetime | None
    checked_at: datetime | None
    next_update_at: datetime | None
    last_error: str | None


async def source_status(session: AsyncSession) -> list[SourceStatus]:
    """Every source (kev, epss), in that order; a source never updated has no rows."""
    rows = {row.name: row for row in await session.scalars(select(EnrichmentSource))}
    statuses: list[SourceStatus] = []
    for name in SOURCES:
        row = rows.get(name)
        if row is None:
            statuses.append(SourceStatus(name, None, 0, *([None] * 8)))
            continue
        statuses.append(
            SourceStatus(
                name=name,
                status=row.status,
                rows=row.row_count,
                data_date=row.data_date,
                version=row.version,
                etag=row.etag,
                last_modified=row.last_modified,
                fetched_at=row.fetched_at,
                checked_at=row.checked_at,
                next_update_at=row.next_update_at,
                last_error=row.last_error,
            )
        )
    return statuses


@dataclass(frozen=True, slots=True)
class CveDetails:
    """GET /cves/{id}: the CVE's context and the entries citing it."""

    id: str
    context: CveContext
    articles: list[CitingEntry]


async def cve_details(session: AsyncSession, cve: str) -> CveDetails:
    """One CVE id (validated by the caller, any case): context and citing entries."""
    key = cve.strip().upper()
    context = (await cve_context(session, [key]))[key]
    return CveDetails(key, context, await citing_entries(session, key))
