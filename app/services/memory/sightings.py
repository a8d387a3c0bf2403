"""Sightings: where and when an indicator occurred in the reports.

The rows are written by the database's triggers on report_items (migration c1sightings01),
in the transaction that writes the entry; this module only reads them. A value asked about
is normalised as the IOC engine normalises what it finds (refanged, case folded where the
type has no case, a trailing dot dropped), so that it meets the value stored in the entry.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest, NotFound
from app.models import Indicator, ReportItem, Sighting
from app.services.iocs import find_iocs

# A value longer than this is no indicator the triggers store (they skip values over 2048
# bytes, which no index could hold), nor one worth scanning.
MAX_VALUE_LENGTH = 2048
MAX_LOOKUP = 1000
DEFAULT_PAGE = 50
MAX_PAGE = 500
# Values per query: far below what SQLite (32766) and asyncpg (32767) bind in one statement.
_CHUNK = 5000
# Row ids are SQL integers (app/schemas/ids.py): a cursor past them names no row.
_SQL_INT_MAX = 2**31 - 1

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class SightingRow:
    """One report entry the indicator is listed in."""

    date: date
    item_id: int
    title: str
    url: str | None
    section: str


@dataclass(frozen=True, slots=True)
class IndicatorSummary:
    """An indicator, when it was first and last seen, how often, and a page of sightings."""

    type: str
    value: str
    first_seen: date
    last_seen: date
    count: int
    sightings: list[SightingRow]
    next_cursor: str | None  # the next page's cursor; None on the last page


@dataclass(frozen=True, slots=True)
class Seen:
    """What a lookup knows of one value asked about."""

    input: str  # as sent
    type: str | None  # None: not one indicator the engine recognises
    value: str | None  # normalised
    first_seen: date | None  # None: never seen
    last_seen: date | None
    count: int

    @property
    def seen(self) -> bool:
        """Whether the indicator occurred in a report."""
        return self.count > 0


def normalise(value: str) -> Pair | None:
    """(type, value) of the one indicator `value` is, as the engine stores it; else None.

    `evil[.]com`, `EVIL.COM`, `evil.com.` and `hxxps://evil[.]com/x` are accepted: the
    engine's own refanging and case rules decide. The whole value must be the indicator
    (`evil.com is bad` is not one; a URL's host or a hash in its path is not the URL).
    """
    text = value.strip()
    # A name written fully qualified ("evil.com.", "evil[.]com[.]") or ending a sentence.
    while text.endswith((".", "[.]")):
        text = text.removesuffix("[.]").rstrip(".").rstrip()
    if not text or len(text) > MAX_VALUE_LENGTH:
        return None
    # The engine reads prose, where "EVIL.COM" or "setup.zip" is more often a file or code
    # name and a bare "T1059" a part number. A value asked about is an indicator on
    # purpose, which the engine recognises in the ways an author says so: cited, "(T1059)",
    # or defanged, "EVIL[.]COM" (a defanged name is a name, whatever it looks like).
    looks = ((text, text), (f"({text})", text), (text.replace(".", "[.]"),) * 2)
    for candidate, whole in looks:
        for ioc in find_iocs(candidate):
            if ioc.raw == whole:
                return ioc.type.value, ioc.value
    return None


async def indicator_summary(
    session: AsyncSession,
    value: str,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE,
) -> IndicatorSummary:
    """First and last seen, count, and a page of sightings newest first (day, then entry).

    InvalidRequest when `value` is no indicator or the cursor is not one we gave; NotFound
    when the indicator never occurred (or no longer does: its last sighting was curated
    away).
    """
    pair = normalise(value)
    if pair is None:
        raise InvalidRequest(f"{value[:100]!r} is not an indicator the IOC engine recognises")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}")
    after = _read_cursor(cursor) if cursor is not None else None
    row = (
        await session.execute(
            select(Indicator.id, func.min(Sighting.day), func.max(Sighting.day), func.count())
            .join(Sighting, Sighting.indicator_id == Indicator.id)
            .where(Indicator.type == pair[0], Indicator.value == pair[1])
            .group_by(Indicator.id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"{pair[0]} {pair[1][:100]!r} was never seen in a report")
    indicator_id, first_seen, last_seen, count = row
    page = (
        select(
            Sighting.day,
            Sighting.report_item_id,
            ReportItem.title,
            ReportItem.url,
            ReportItem.section,
        )
        .join(ReportItem, ReportItem.id == Sighting.report_item_id)
        .where(Sighting.indicator_id == indicator_id)
        # Keyset order on ix_sightings_timeline read backwards: stable under new sightings.
        .order_by(Sighting.day.desc(), Sighting.report_item_id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        page = page.where(tuple_(Sighting.day, Sighting.report_item_id) < after)
    rows = [SightingRow(*found) for found in (await session.execute(page)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return IndicatorSummary(
        type=pair[0],
        value=pair[1],
        first_seen=first_seen,
        last_seen=last_seen,
        count=count,
        sightings=rows,
        next_cursor=_write_cursor(rows[-1]) if more else None,
    )


async def lookup(session: AsyncSession, values: Sequence[str]) -> list[Seen]:
    """What is known of each value, in the order given (at most MAX_LOOKUP): one query.

    A value that is no indicator answers with type None; one never seen with count 0.
    """
    if len(values) > MAX_LOOKUP:
        raise InvalidRequest(f"at most {MAX_LOOKUP} values in one lookup")
    # Up to a few ms of scanning per odd value, seconds for a thousand: off the event loop.
    pairs = await asyncio.to_thread(lambda: {value: normalise(value) for value in set(values)})
    known = {pair for pair in pairs.values() if pair is not None}
    found: dict[Pair, tuple[date, date, int]] = {}
    for where in _matching(known):
        rows = await session.execute(
            select(
                Indicator.type,
                Indicator.value,
                func.min(Sighting.day),
                func.max(Sighting.day),
                func.count(),
            )
            .join(Sighting, Sighting.indicator_id == Indicator.id)
            .where(where)
            .group_by(Indicator.id, Indicator.type, Indicator.value)
        )
        found.update({(t, v): (first, last, n) for t, v, first, last, n in rows.all()})
    answers: list[Seen] = []
    for value in values:
        pair = pairs[value]
        first, last, count = found.get(pair, (None, None, 0)) if pair else (None, None, 0)
        answers.append(
            Seen(
                input=value,
                type=pair[0] if pair else None,
                value=pair[1] if pair else None,
                first_seen=first,
                last_seen=last,
                count=count,
            )
        )
    return answers


async def first_seen_of(session: AsyncSession, pairs: Iterable[Pair]) -> dict[Pair, date]:
    """The first report day of each (type, value) as report items store them.

    One query for a day's IOCs (a chunk per 5,000 values beyond). A pair that never
    occurred, an `other` line or a value too long to store, is absent from the answer.
    """
    first: dict[Pair, date] = {}
    for where in _matching(set(pairs)):
        rows = await session.execute(
            select(Indicator.type, Indicator.value, func.min(Sighting.day))
            .join(Sighting, Sighting.indicator_id == Indicator.id)
            .where(where)
            .group_by(Indicator.id, Indicator.type, Indicator.value)
        )
        first.update({(t, v): day for t, v, day in rows.all()})
    return first


def _matching(pairs: set[Pair]) -> list[ColumnElement[bool]]:
    """WHERE clauses for the indicators of `pairs`, one per chunk of values.

    `type = t AND value IN (...)` per type: the unique index on (type, value) serves
    each, on both databases (a row-value IN list is not planned as well by SQLite).
    """
    by_type: dict[str, list[str]] = defaultdict(list)
    for type_, value in sorted(pairs):
        by_type[type_].append(value)
    clauses: list[ColumnElement[bool]] = []
    chunk: list[ColumnElement[bool]] = []
    size = 0
    for type_, values in by_type.items():
        for start in range(0, len(values), _CHUNK):
            part = values[start : start + _CHUNK]
            if size + len(part) > _CHUNK:
                clauses.append(or_(*chunk))
                chunk, size = [], 0
            chunk.append(and_(Indicator.type == type_, Indicator.value.in_(part)))
            size += len(part)
    if chunk:
        clauses.append(or_(*chunk))
    return clauses


def _write_cursor(row: SightingRow) -> str:
    text = f"{row.date.isoformat()}|{row.item_id}"
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _read_cursor(text: str) -> tuple[date, int]:
    """(day, item id) after which the page starts; InvalidRequest if we never gave it."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        day, _, item = raw.partition("|")
        item_id = int(item)
        if not 1 <= item_id <= _SQL_INT_MAX:
            raise ValueError(item)
        return date.fromisoformat(day), item_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("cursor is not a value this server gave") from None
