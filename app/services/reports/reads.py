"""Reading a day at the speed of a cache, never stale.

A read asks the change clock (app/clock.py) whether anything changed since this process
last looked; when nothing did, the day's state (its change token) and its rendered bytes
come from memory, with no query at all. Otherwise one indexed query reads the day's token,
and the bytes of that state come from the render cache, or are rendered once from rows
(no ORM object, no Pydantic object per IOC; the Markdown lines stored with each item).

Every change to a day changes its token in the same transaction (the database's
triggers): a write in any process makes the next read anywhere fresh.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from email.utils import format_datetime
from importlib.metadata import version as installed_version
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import ChangeClock, ClockMemo
from app.errors import NotFound
from app.models import Report, ReportItem
from app.services.markdown import Labels
from app.services.reports.cache import RenderCache
from app.services.reports.days import parse_day
from app.services.reports.document import (
    DocumentIoc,
    DocumentItem,
    DocumentSource,
    ItemKind,
    ReportDocument,
)
from app.services.reports.sections import SECTION_RANK, Section

JSON = "application/json"
MARKDOWN = "text/markdown; charset=utf-8"
# A rendering changes with the release (a fix to escaping, a new JSON field): a client's
# copy from the previous release is revalidated, not reused.
RELEASE = installed_version("secdigest")
# Below this a gzip body saves less than its header and the CPU cost.
GZIP_MIN_BYTES = 1024
_ITEM_COLUMNS = (
    ReportItem.id,
    ReportItem.article_id,
    ReportItem.section,
    ReportItem.position,
    ReportItem.kind,
    ReportItem.title,
    ReportItem.url,
    ReportItem.sources,
    ReportItem.summary,
    ReportItem.iocs,
    ReportItem.recommendations,
    ReportItem.other,
    ReportItem.model_recommendations,
    ReportItem.display,
)


@dataclass(frozen=True, slots=True)
class DayState:
    """A day's report as it stands: which row, and the token of its current state."""

    report_id: int
    day: date
    token: str
    updated_at: datetime
    # Last-Modified as HTTP writes it, formatted once per state rather than per request.
    last_modified: str


@dataclass(frozen=True, slots=True)
class Representation:
    """One representation of one state of a day, or of the list of days."""

    key: str  # what the render cache stores the bytes under
    day: date | None  # None for the list of days
    etag: str
    media_type: str
    last_modified: str | None  # an HTTP date
    # The change clock's value it was chosen at; None when the clock could not be read.
    clock: int | None = None
    # False when its bytes depend on more than the day and the clock could not say
    # whether that changed: rendered for this request only, never cached.
    cacheable: bool = True


@dataclass(frozen=True, slots=True)
class Rendered:
    """The bytes of a representation, gzip-compressed when asked and worth it."""

    representation: Representation
    body: bytes
    gzipped: bool


def _etag(key: str) -> str:
    # Weak: the same state is sent plain or gzip-compressed (RFC 9110, 8.8.1).
    return 'W/"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'


_LABEL_KEYS: dict[int, tuple[Labels, str]] = {}


def labels_key(labels: Labels) -> str:
    """A short digest of labels for a key (once per object: labels_for hands out one each)."""
    known = _LABEL_KEYS.get(id(labels))
    if known is not None and known[0] is labels:
        return known[1]
    key = hashlib.blake2b(repr(labels).encode(), digest_size=6).hexdigest()
    _LABEL_KEYS[id(labels)] = (labels, key)
    return key


class ReportReads:
    """The read side of reports: day states memoized per clock, bytes cached per state."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: ChangeClock,
        cache: RenderCache,
    ) -> None:
        self.sessionmaker = sessionmaker  # read-only sessions
        self.clock = clock
        self.cache = cache
        self._memo = ClockMemo()

    async def day_representation(
        self,
        spec: str,
        *,
        tz: tzinfo,
        markdown: bool,
        lang: str,
        labels: Labels,
        new_only: bool = False,
    ) -> Representation:
        """The representation of a day's current state (`spec`: a date, today, latest);
        `new_only`: the JSON with only the indicators first seen that day."""
        clock = await self._clock()
        state = await self._day_state(spec, tz, clock)
        return self._representation(
            state, markdown=markdown, lang=lang, labels=labels, new_only=new_only, clock=clock
        )

    async def day_body(
        self,
        representation: Representation,
        render: Callable[[AsyncSession, ReportDocument], Awaitable[bytes]],
        *,
        markdown: bool,
        lang: str,
        labels: Labels,
        gzip_ok: bool,
        new_only: bool = False,
    ) -> Rendered:
        """The bytes of a day's representation; `render` makes them from the day's rows
        when they are not cached (the caller knows the format: JSON or Markdown), with
        the session that read them (what else it reads agrees with them)."""
        body = await self.cache.get(representation.key) if representation.cacheable else None
        if body is None:
            async with self.sessionmaker() as session:
                state = await _current_state(session, representation)
                body = await render(session, await day_document(session, state))
            # The day may have changed since its representation was chosen: the bytes go
            # under the key of the state they were rendered from. The clock stays the one
            # read before: the rows are as new as it says, or newer (never older).
            representation = self._representation(
                state,
                markdown=markdown,
                lang=lang,
                labels=labels,
                new_only=new_only,
                clock=representation.clock,
            )
            if representation.cacheable:
                await self.cache.put(representation.key, body)
        return await self._maybe_gzip(representation, body, gzip_ok)

    async def kind_representation(
        self, spec: str, *, tz: tzinfo, kind: str, media_type: str, clocked: bool = False
    ) -> Representation:
        """Another rendering of a day (an export, a page): `kind` names all its bytes depend
        on (format, options, settings); `clocked`: other rows too (`_kind_representation`)."""
        clock = await self._clock()
        state = await self._day_state(spec, tz, clock)
        return _kind_representation(state, kind, media_type, clock, clocked=clocked)

    async def kind_body(
        self,
        representation: Representation,
        render: Callable[[AsyncSession, DayState], Awaitable[bytes]],
        *,
        kind: str,
        gzip_ok: bool,
        clocked: bool = False,
    ) -> Rendered:
        """The bytes of another rendering of a day; `render` makes them with a read session
        and the day's state when they are not cached (one transaction: state and rows agree;
        the key keeps the clock read before, as in `day_body`)."""
        body = await self.cache.get(representation.key) if representation.cacheable else None
        if body is None:
            async with self.sessionmaker() as session:
                state = await _current_state(session, representation)
                body = await render(session, state)
            representation = _kind_representation(
                state, kind, representation.media_type, representation.clock, clocked=clocked
            )
            if representation.cacheable:
                await self.cache.put(representation.key, body)
        return await self._maybe_gzip(representation, body, gzip_ok)

    async def cached(self, representation: Representation, *, gzip_ok: bool) -> Rendered | None:
        """The bytes of a representation when the cache holds them, else None."""
        if not representation.cacheable:
            return None
        if gzip_ok:
            compressed = await self.cache.get(representation.key + ":gzip")
            if compressed is not None:
                return Rendered(representation, compressed, gzipped=True)
        body = await self.cache.get(representation.key)
        if body is None:
            return None
        return await self._maybe_gzip(representation, body, gzip_ok)

    async def days(self, *, gzip_ok: bool) -> Rendered:
        """Every day that has a report, newest first, with its item count (JSON)."""
        clock = await self._clock()
        cached = self._memo.get(clock, "days") if clock is not None else None
        if isinstance(cached, tuple):
            representation, body = cached
        else:
            async with self.sessionmaker() as session:
                rows = await session.execute(
                    select(Report.day, func.count(ReportItem.id))
                    .outerjoin(ReportItem, ReportItem.report_id == Report.id)
                    .group_by(Report.id, Report.day)
                    .order_by(Report.day.desc())
                )
                listed = [{"date": d.isoformat(), "item_count": n} for d, n in rows.all()]
            body = orjson.dumps({"reports": listed})
            key = "days:" + hashlib.blake2b(body, digest_size=16).hexdigest() + ":" + RELEASE
            representation = Representation(key, None, _etag(key), JSON, None)
            if clock is not None:
                self._memo.put(clock, "days", (representation, body))
        return await self._maybe_gzip(representation, body, gzip_ok)

    async def _clock(self) -> int | None:
        try:
            return await self.clock.now()
        except Exception:  # any failure means: trust nothing cached
            return None

    async def _day_state(self, spec: str, tz: tzinfo, clock: int | None) -> DayState:
        day = parse_day(spec, tz)
        memo_key = ("day", day)
        if clock is not None:
            state = self._memo.get(clock, memo_key)
            if isinstance(state, DayState):
                return state
        async with self.sessionmaker() as session:
            found = await _read_state(session, day)
        if found is None:
            if day is None:
                raise NotFound("there is no report yet")
            raise NotFound(f"there is no report for {day.isoformat()}")
        if clock is not None:
            self._memo.put(clock, memo_key, found)
        return found

    @staticmethod
    def _representation(
        state: DayState,
        *,
        markdown: bool,
        lang: str,
        labels: Labels,
        new_only: bool,
        clock: int | None,
    ) -> Representation:
        kind = f"{_day_kind(markdown, new_only)}:{lang}:{labels_key(labels)}"
        media_type = MARKDOWN if markdown else JSON
        return _kind_representation(state, kind, media_type, clock, clocked=not markdown)

    async def _maybe_gzip(
        self, representation: Representation, body: bytes, gzip_ok: bool
    ) -> Rendered:
        # (gzip variants are stored under the plain key + ":gzip", see `cached`)
        if not gzip_ok or len(body) < GZIP_MIN_BYTES:
            return Rendered(representation, body, gzipped=False)
        if not representation.cacheable:
            once = gzip.compress(body, compresslevel=6, mtime=0)
            return Rendered(representation, once, gzipped=True)
        key = representation.key + ":gzip"
        compressed = await self.cache.get(key)
        if compressed is None:
            # Compressed once per state, not per request (1 MB of JSON costs ~10 ms).
            compressed = gzip.compress(body, compresslevel=6, mtime=0)
            await self.cache.put(key, compressed)
        return Rendered(representation, compressed, gzipped=True)


def _day_kind(markdown: bool, new_only: bool) -> str:
    """What a day's bytes depend on besides the day's state and the labels.

    The Markdown: the day alone. The JSON also carries each indicator's first day and each
    CVE's KEV and EPSS context, which change with other days and the sources: it is clocked
    (source loads tick the clock, c3enrich00001): a write re-renders it once, never stale.
    """
    if markdown:
        return "md"
    return "json-new" if new_only else "json"


def _kind_representation(
    state: DayState, kind: str, media_type: str, clock: int | None, *, clocked: bool
) -> Representation:
    """Keyed by the day's state and `kind`; when `clocked` (it shows other rows: the JSON's
    first days, a page's links to the days around it), by the change clock too."""
    key = f"day:{state.day.isoformat()}:{state.report_id}:{state.token}:{kind}:{RELEASE}"
    # Without a clock nothing says whether the other rows changed: never cached.
    cacheable = not clocked or clock is not None
    if clocked:
        # (an ETag no one holds when not cacheable: never a 304)
        key += f":c{clock}" if cacheable else ":" + secrets.token_hex(8)
    return Representation(
        key, state.day, _etag(key), media_type, state.last_modified, clock, cacheable
    )


async def _read_state(session: AsyncSession, day: date | None) -> DayState | None:
    """The day's row and change token: one query on the unique index of `day`."""
    query = select(Report.id, Report.day, Report.change_token, Report.updated_at)
    if day is None:
        query = query.order_by(Report.day.desc()).limit(1)
    else:
        query = query.where(Report.day == day)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    report_id, found_day, token, updated_at = row
    # Rows written before tokens existed got one from the migration; the id keeps a
    # token-less row (none should exist) from sharing a key with another day.
    token = token or f"id{report_id}"
    return DayState(
        report_id, found_day, token, updated_at, format_datetime(updated_at, usegmt=True)
    )


async def _current_state(session: AsyncSession, representation: Representation) -> DayState:
    """The state of a representation's day now (it may have changed, or gone, since)."""
    day = representation.day
    assert day is not None, "a day's representation names its day"
    state = await _read_state(session, day)
    if state is None:
        raise NotFound(f"there is no report for {day.isoformat()}")
    return state


async def day_document(session: AsyncSession, state: DayState) -> ReportDocument:
    """A day's items in report order, from rows, in the session's transaction."""
    rows = await session.execute(
        select(*_ITEM_COLUMNS)
        .where(ReportItem.report_id == state.report_id)
        .order_by(ReportItem.position, ReportItem.id)
    )
    items = sorted(
        (_document_item(row) for row in rows.all()),
        key=lambda item: SECTION_RANK.get(item.section.value, 99),
    )
    return ReportDocument(day=state.day, items=items)


def _document_item(row: Any) -> DocumentItem:
    return DocumentItem(
        id=row.id,
        article_id=row.article_id,
        kind=ItemKind(row.kind),
        section=Section(row.section),
        title=row.title,
        url=row.url,
        summary=row.summary,
        iocs=[DocumentIoc.of(i) for i in row.iocs],
        recommendations=row.recommendations,
        other=row.other,
        model_recommendations=row.model_recommendations,
        sources=[DocumentSource(url=s["url"], title=s.get("title")) for s in row.sources],
        display=row.display,
    )
