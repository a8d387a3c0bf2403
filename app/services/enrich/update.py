"""Update the stored KEV catalog and EPSS scores: conditional GET, strict read, atomic swap.

One source at a time: its validators are read, the transaction is closed (SQLite has one
writer: none is held across the download), the file is fetched through the guarded
fetch and parsed in a thread, then the table's rows are replaced in one write (a delete
and a bulk insert under a savepoint) with the source's status. A 304 keeps the rows;
any failure (fetch, a refused file, the write itself) keeps them too and is recorded as
the source's `last_error`. The caller's unit of work commits what is left.

The daily schedule claims a due source with a conditional UPDATE of its
`next_update_at` (as feeds are claimed), so one process of many updates it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

import httpx
from sqlalchemy import CursorResult, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import close_transaction
from app.errors import SecdigestError
from app.models import EnrichmentSource, EpssScore, KevEntry
from app.models.types import utcnow
from app.services.enrich.catalog import EPSS, KEV, SOURCES, CatalogRefused
from app.services.enrich.epss import parse_epss
from app.services.enrich.kev import parse_kev
from app.services.fetch import FetchedPage, FetchPolicy, fetch_page
from app.settings import Settings

log = logging.getLogger("secdigest.enrich")

UPDATED: Final = "updated"
UNCHANGED: Final = "unchanged"
FAILED: Final = "failed"
# A failed scheduled update is tried again after this, not a whole interval later.
RETRY_AFTER = timedelta(hours=1)
# How often the schedule looks for a due source (one small UPDATE per source).
CHECK_SECONDS = 300.0
# Rows per INSERT batch: few round trips, and well under both drivers' parameter limits.
_BATCH = 5000

# What the servers label the files (CISA: application/json; FIRST's bucket:
# application/x-gzip or octet-stream); an HTML error page is refused before its body.
_KEV_TYPES = frozenset({"application/json", "text/json", "text/plain", "application/octet-stream"})
_EPSS_TYPES = frozenset(
    {
        "application/gzip",
        "application/x-gzip",
        "application/octet-stream",
        "binary/octet-stream",
        "text/csv",
        "text/plain",
    }
)
_ACCEPT = {KEV: "application/json", EPSS: "application/gzip, text/csv;q=0.9, */*;q=0.5"}


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """How one source's update went."""

    name: str
    status: Literal["updated", "unchanged", "failed"]
    rows: int  # rows stored after the update (kept ones on a 304 or a failure)
    data_date: date | None = None
    version: str | None = None
    error: str | None = None  # "slug: detail" of a failure


@dataclass(frozen=True, slots=True)
class _Parsed:
    rows: list[dict[str, Any]]
    data_date: date | None
    version: str | None


def source_urls(settings: Settings) -> dict[str, str]:
    """Where each source is fetched from."""
    return {KEV: settings.kev_url, EPSS: settings.epss_url}


def enrich_policy(policy: FetchPolicy, settings: Settings) -> FetchPolicy:
    """The fetch policy of the app (guard, allow-list, ports) with the enrichment bounds."""
    return dataclasses.replace(
        policy, max_bytes=settings.enrich_max_bytes, timeout=settings.enrich_timeout
    )


async def _ensure_sources(session: AsyncSession, names: Sequence[str]) -> None:
    """A row per source; two processes creating one meet at its primary key."""
    query = select(EnrichmentSource.name).where(EnrichmentSource.name.in_(names))
    existing = set(await session.scalars(query))
    for name in names:
        if name in existing:
            continue
        try:
            async with session.begin_nested():
                session.add(EnrichmentSource(name=name, row_count=0))
        except IntegrityError:
            pass  # created by another process meanwhile


async def claim_due_sources(
    session: AsyncSession,
    *,
    interval: int,
    names: Sequence[str] = SOURCES,
    now: datetime | None = None,
) -> list[str]:
    """The due sources, each taken by one caller: its next update moves RETRY_AFTER ahead
    in a conditional UPDATE (a success then moves it a whole `interval` ahead)."""
    now = now or utcnow()
    await _ensure_sources(session, names)
    claimed: list[str] = []
    for name in names:
        outcome = await session.execute(
            update(EnrichmentSource)
            .where(
                EnrichmentSource.name == name,
                or_(
                    EnrichmentSource.next_update_at.is_(None),
                    EnrichmentSource.next_update_at <= now,
                ),
            )
            .values(next_update_at=now + min(RETRY_AFTER, timedelta(seconds=interval))),
            execution_options={"synchronize_session": False},
        )
        assert isinstance(outcome, CursorResult)
        if outcome.rowcount == 1:
            claimed.append(name)
    return claimed


async def _download(
    http: httpx.AsyncClient, policy: FetchPolicy, name: str, url: str, held: EnrichmentSource
) -> FetchedPage:
    headers = {"Accept": _ACCEPT[name]}
    # Validators only for the file we hold: another URL's, or those of rows deleted
    # since, would make a 304 stand for data we do not have.
    if held.url == url and held.row_count > 0:
        if held.etag:
            headers["If-None-Match"] = held.etag
        if held.last_modified:
            headers["If-Modified-Since"] = held.last_modified
    types = _KEV_TYPES if name == KEV else _EPSS_TYPES
    return await fetch_page(http, policy, url=url, headers=headers, data_types=types)


def _parse(name: str, body: bytes, max_bytes: int) -> _Parsed:
    """The file's rows as the table takes them (run in a thread: EPSS is 300k lines)."""
    if name == KEV:
        catalog = parse_kev(body, max_bytes=max_bytes)
        rows = [dataclasses.asdict(record) for record in catalog.records]
        return _Parsed(rows, catalog.released, catalog.version)
    scores = parse_epss(body, max_bytes=max_bytes)
    day = scores.score_date
    rows = [
        {"cve_id": r.cve_id, "score": r.score, "percentile": r.percentile, "date": day}
        for r in scores.records
    ]
    return _Parsed(rows, day, scores.model_version)


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), _BATCH):
        yield rows[start : start + _BATCH]


async def _replace(session: AsyncSession, name: str, parsed: _Parsed) -> None:
    """Swap the source's rows for the new file's, in one transaction (under a savepoint)."""
    model = KevEntry if name == KEV else EpssScore
    async with session.begin_nested():
        # The source row is locked first: a second updater (the CLI beside the schedule)
        # waits here on PostgreSQL instead of inserting beside our rows (SQLite's writer
        # lock already serializes them).
        await session.execute(
            select(EnrichmentSource.name).where(EnrichmentSource.name == name).with_for_update()
        )
        await session.execute(delete(model))
        for batch in _batches(parsed.rows):
            await session.execute(insert(model), batch)


async def _record(session: AsyncSession, name: str, **values: Any) -> None:
    await session.execute(
        update(EnrichmentSource).where(EnrichmentSource.name == name).values(**values),
        execution_options={"synchronize_session": False},
    )


async def _update_one(
    session: AsyncSession,
    http: httpx.AsyncClient,
    policy: FetchPolicy,
    *,
    name: str,
    url: str,
    interval: int,
) -> SourceOutcome:
    held = await session.get(EnrichmentSource, name, populate_existing=True)
    assert held is not None
    kept = held.row_count
    await close_transaction(session)  # no transaction held across the download
    error: SecdigestError | CatalogRefused
    try:
        page = await _download(http, policy, name, url, held)
        parsed = (
            None
            if page.not_modified
            else await asyncio.to_thread(_parse, name, page.body, policy.max_bytes)
        )
    except (SecdigestError, CatalogRefused) as exc:
        error = exc
    else:
        now = utcnow()
        done = {"checked_at": now, "fetched_at": now, "last_error": None}
        done["next_update_at"] = now + timedelta(seconds=interval)
        if parsed is None:
            # A 304 may carry fresher validators; otherwise the stored ones stay.
            fresher = {"etag": page.etag} if page.etag else {}
            if page.last_modified:
                fresher["last_modified"] = page.last_modified
            await _record(session, name, status=UNCHANGED, **done, **fresher)
            log.info("enrich.unchanged source=%s rows=%d", name, kept)
            return SourceOutcome(name, UNCHANGED, kept, held.data_date, held.version)
        try:
            await _replace(session, name, parsed)
        except SQLAlchemyError as exc:
            log.exception("enrich.store_failed source=%s", name)
            message = f"storing the rows failed ({type(exc).__name__}); the old rows are kept"
            error = SecdigestError(message)
        else:
            await _record(
                session,
                name,
                status=UPDATED,
                url=url,
                etag=page.etag,
                last_modified=page.last_modified,
                row_count=len(parsed.rows),
                data_date=parsed.data_date,
                version=parsed.version,
                **done,
            )
            log.info("enrich.updated source=%s rows=%d", name, len(parsed.rows))
            return SourceOutcome(name, UPDATED, len(parsed.rows), parsed.data_date, parsed.version)
    detail = f"{error.slug}: {error.detail}"[:2000]
    await _record(session, name, status=FAILED, checked_at=utcnow(), last_error=detail)
    log.info("enrich.failed source=%s problem=%s", name, error.slug)
    return SourceOutcome(name, FAILED, kept, held.data_date, held.version, detail)


async def update_sources(
    session: AsyncSession,
    http: httpx.AsyncClient,
    policy: FetchPolicy,
    *,
    settings: Settings,
    names: Sequence[str] = SOURCES,
) -> list[SourceOutcome]:
    """Update each named source (`secdigest enrich update`); one outcome per source.

    `policy` is the app's fetch policy (the guard applies); the enrichment's own size
    and time bounds replace the article ones. The caller commits (session_scope).
    """
    urls = source_urls(settings)
    bounded = enrich_policy(policy, settings)
    await _ensure_sources(session, names)
    return [
        await _update_one(
            session, http, bounded, name=name, url=urls[name], interval=settings.enrich_interval
        )
        for name in names
    ]


async def update_due(
    session: AsyncSession, http: httpx.AsyncClient, policy: FetchPolicy, *, settings: Settings
) -> list[SourceOutcome]:
    """The schedule's turn: claim the due sources and update them (none: nothing)."""
    names = await claim_due_sources(session, interval=settings.enrich_interval)
    if not names:
        return []
    return await update_sources(session, http, policy, settings=settings, names=names)
