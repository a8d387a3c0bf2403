"""The TAXII 2.1 collection: every day's STIX objects as object versions, filtered and paged.

The collection holds the objects `GET /reports/{date}?format=stix` answers for every day
(default options: flagged indicators left out), the same ids and versions: it is built by
the same function (`stix.day_objects`). Each version's `date_added` is its `modified` (its
`created` when it has none): stable across polls and processes, and later for the new
version of an entry an analyst curated, which a poll with `added_after` then returns.
The database keeps the current state only: an object's older versions are not served.

Built in memory, kept while the change clock (app/clock.py) reads the same value, rebuilt
per day (a day whose change token is unchanged keeps its objects); each version is held
serialized, so a page is a join of bytes. Pages go by (date_added, id); `next` encodes that
pair of a page's last version: no state on the server, valid across processes and rebuilds.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import heapq
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from operator import attrgetter
from typing import Any, NamedTuple

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import ChangeClock
from app.errors import BadRequest
from app.models import Report
from app.services.exports.entries import ExportEntry, entries
from app.services.exports.render import ExportOptions
from app.services.exports.stix import MEDIA_TYPE as STIX_MEDIA_TYPE
from app.services.exports.stix import day_objects

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
# The most versions one page holds (the `limit` default and cap): about 600 KB of objects.
MAX_PAGE_SIZE = 1000
# uuid5(STIX namespace, "secdigest/taxii2/collections/daily"): the same in every
# installation and process, so a client's configuration outlives restarts.
COLLECTION_ID = "b09acfbc-8ac4-5e19-beca-6f90bb57139b"
COLLECTION_ALIAS = "daily"
# Above this many changed days one query reads every day instead of one query per day.
_DAY_QUERIES = 16
_EPOCH, _MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)


class ObjectVersion(NamedTuple):
    """One version of one object of the collection (a tuple: a year holds 120,000)."""

    key: tuple[int, str]  # (date_added in microseconds, id): the order of every answer
    id: str
    type: str
    spec_version: str
    version: str  # the object's `modified` (or `created`), as the object writes it
    raw: bytes  # the object, serialized

    @property
    def date_added(self) -> str:
        """When the collection says it was added: the version itself (see the module)."""
        return self.version


_KEY = attrgetter("key")
# Objects every day's bundle has (the TLP marking, the producer): the collection's once.
_SHARED_TYPES = frozenset({"marking-definition", "identity"})


def micros(text: str) -> int:
    """A STIX/TAXII timestamp as microseconds since the epoch; ValueError when it is not
    one (a timestamp with no zone is not one)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return (moment - _EPOCH) // _MICROSECOND


def object_versions(objects: Iterable[dict[str, Any]]) -> list[ObjectVersion]:
    """The versions of built STIX objects, in collection order."""
    found = []
    known: dict[str, int] = {}  # a day's objects share a few timestamps
    dumps = orjson.dumps
    for made in objects:
        version = made.get("modified") or made["created"]
        added = known.get(version)
        if added is None:
            added = known[version] = micros(version)
        object_id = made["id"]
        # The bytes copied to their exact size: those orjson returns keep its whole output
        # buffer (8 KB for a 600-byte object: 780 MB instead of 60 for a year).
        raw = bytes(memoryview(dumps(made)))
        spec_version = made.get("spec_version", "2.1")
        found.append(
            ObjectVersion((added, object_id), object_id, made["type"], spec_version, version, raw)
        )
    found.sort(key=_KEY)
    return found


def day_versions(
    objects: Iterable[dict[str, Any]], shared: dict[tuple[str, str], ObjectVersion]
) -> list[ObjectVersion]:
    """A day's versions but those every day has (marking, producer), kept in `shared`."""
    versions = object_versions(objects)
    for version in versions:
        if version.type in _SHARED_TYPES:
            shared.setdefault((version.id, version.version), version)
    return [version for version in versions if version.type not in _SHARED_TYPES]


class Snapshot:
    """The collection at one moment: every version in (date_added, id) order; the indexes by
    type and by id are made when a request first needs them."""

    def __init__(self, versions: list[ObjectVersion]) -> None:
        self.versions = versions
        # Which versions are not their object's first or last (none, unless an id has
        # several versions): `match[version]` reads them.
        self.not_first: frozenset[tuple[int, str]] = frozenset()
        self.not_last: frozenset[tuple[int, str]] = frozenset()
        if len(set(map(attrgetter("id"), versions))) < len(versions):
            held = [sorted(v, key=lambda v: micros(v.version)) for v in self.by_id.values()]
            self.not_first = frozenset(v.key for group in held for v in group[1:])
            self.not_last = frozenset(v.key for group in held for v in group[:-1])

    @cached_property
    def by_id(self) -> dict[str, list[ObjectVersion]]:
        """Each object's versions, in collection order."""
        found: dict[str, list[ObjectVersion]] = defaultdict(list)
        for version in self.versions:
            found[version.id].append(version)
        return dict(found)  # a plain dict: a lookup must not add a key

    @cached_property
    def by_type(self) -> dict[str, list[ObjectVersion]]:
        """Each type's versions, in collection order."""
        found: dict[str, list[ObjectVersion]] = defaultdict(list)
        for version in self.versions:
            found[version.type].append(version)
        return dict(found)


def build_snapshot(
    days: Iterable[list[ObjectVersion]], shared: Iterable[ObjectVersion] = ()
) -> Snapshot:
    """The collection of the days' versions (each list in collection order) and the shared
    objects. Sorting concatenated sorted lists merges them (Timsort finds the runs)."""
    versions = list(shared)
    for held in days:
        versions.extend(held)
    versions.sort(key=_KEY)
    return Snapshot(versions)


@dataclass(frozen=True, slots=True)
class Filters:
    """What a request asks of the collection (TAXII 2.1, section 3.4)."""

    added_after: int | None = None
    limit: int = MAX_PAGE_SIZE
    cursor: tuple[int, str] | None = None
    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    versions: frozenset[str] = frozenset({"last"})  # first, last, all
    version_times: frozenset[int] = frozenset()
    spec_versions: frozenset[str] | None = None

    def accepts(self, version: ObjectVersion, snapshot: Snapshot) -> bool:
        """Whether a version passes the version and spec_version filters."""
        if self.spec_versions is not None and version.spec_version not in self.spec_versions:
            return False
        wanted = self.versions
        return (
            "all" in wanted
            or ("last" in wanted and version.key not in snapshot.not_last)
            or ("first" in wanted and version.key not in snapshot.not_first)
            or (bool(self.version_times) and micros(version.version) in self.version_times)
        )


def parse_filters(query: Mapping[str, str], *, matches: tuple[str, ...]) -> Filters:
    """The filters of a query string; BadRequest names a bad one. `matches` are the
    `match[...]` fields the endpoint takes; others are ignored, as are unknown parameters."""
    values: dict[str, Any] = {}
    if "added_after" in query:
        values["added_after"] = _timestamp("added_after", query["added_after"])
    if "limit" in query:
        text = query["limit"]
        if not text.isdigit() or int(text) < 1:
            raise BadRequest(f"limit must be a positive integer, not {text!r}")
        values["limit"] = min(int(text), MAX_PAGE_SIZE)
    if "next" in query:
        values["cursor"] = _read_cursor(query["next"])
    if "id" in matches and "match[id]" in query:
        values["ids"] = _listed(query["match[id]"])
    if "type" in matches and "match[type]" in query:
        values["types"] = _listed(query["match[type]"])
    if "spec_version" in matches and "match[spec_version]" in query:
        values["spec_versions"] = _listed(query["match[spec_version]"])
    wanted = query.get("match[version]", "last") if "version" in matches else "all"
    keywords, times = set(), set()
    for item in _listed(wanted):
        if item in ("first", "last", "all"):
            keywords.add(item)
        else:
            times.add(_timestamp("match[version]", item))
    return Filters(**values, versions=frozenset(keywords), version_times=frozenset(times))


def _listed(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _timestamp(name: str, text: str) -> int:
    try:
        return micros(text)
    except ValueError:
        raise BadRequest(f"{name} must be a timestamp such as 2024-12-06T00:00:00Z") from None


def _write_cursor(key: tuple[int, str]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]}|{key[1]}".encode()).rstrip(b"=").decode()


def _read_cursor(text: str) -> tuple[int, str]:
    try:
        added, _, object_id = (
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().partition("|")
        )
        return int(added), object_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("next is not a value this server gave") from None


@dataclass(frozen=True, slots=True)
class Page:
    """The versions of one answer, and whether more follow."""

    versions: list[ObjectVersion]
    more: bool

    @property
    def next(self) -> str | None:
        """The cursor of the next page, when there is one."""
        return _write_cursor(self.versions[-1].key) if self.more else None

    def headers(self) -> dict[str, str]:
        """X-TAXII-Date-Added-First and -Last of the versions in this page."""
        if not self.versions:
            return {}
        return {
            "X-TAXII-Date-Added-First": self.versions[0].date_added,
            "X-TAXII-Date-Added-Last": self.versions[-1].date_added,
        }


def select_page(snapshot: Snapshot, filters: Filters, *, object_id: str | None = None) -> Page:
    """The versions of the collection (or of one object) that pass the filters, one page."""
    ids = frozenset({object_id}) if object_id is not None else filters.ids
    if ids:
        held = sorted((v for i in ids for v in snapshot.by_id.get(i, ())), key=_KEY)
        if filters.types:
            held = [v for v in held if v.type in filters.types]
        sources = [held]
    elif filters.types:
        sources = [snapshot.by_type[t] for t in sorted(filters.types) if t in snapshot.by_type]
    else:
        sources = [snapshot.versions]
    streams = [_after(source, filters) for source in sources]
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_KEY)
    picked: list[ObjectVersion] = []
    for version in merged:
        if not filters.accepts(version, snapshot):
            continue
        if len(picked) == filters.limit:
            return Page(picked, more=True)
        picked.append(version)
    return Page(picked, more=False)


def _after(versions: list[ObjectVersion], filters: Filters) -> Iterator[ObjectVersion]:
    """The versions added after `added_after` and after the cursor's, read lazily."""
    start = 0
    if filters.added_after is not None:
        start = bisect_left(versions, (filters.added_after + 1, ""), key=_KEY)
    if filters.cursor is not None:
        start = max(start, bisect_right(versions, filters.cursor, key=_KEY))
    return map(versions.__getitem__, range(start, len(versions)))


def _paged(page: Page, name: str, items: list[bytes]) -> bytes:
    head = b'{"more":' + (b"true" if page.more else b"false")
    if page.more:
        head += b',"next":' + orjson.dumps(page.next)
    if not items:
        return head + b"}"
    return head + b',"' + name.encode() + b'":[' + b",".join(items) + b"]}"


def envelope(page: Page) -> bytes:
    """The envelope of a page of objects (section 3.7)."""
    return _paged(page, "objects", [v.raw for v in page.versions])


def manifest(page: Page) -> bytes:
    """The manifest records of a page (section 5.3.1)."""
    media = STIX_MEDIA_TYPE
    records = [
        {"id": v.id, "date_added": v.date_added, "version": v.version, "media_type": media}
        for v in page.versions
    ]
    return _paged(page, "objects", [orjson.dumps(record) for record in records])


def versions_resource(page: Page) -> bytes:
    """The versions of one object (section 5.8.1)."""
    return _paged(page, "versions", [orjson.dumps(v.version) for v in page.versions])


class TaxiiStore:
    """The collection of one process: built from the database, kept per change clock."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: ChangeClock,
        options: ExportOptions,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.options = options
        self._days: dict[date, tuple[str, list[ObjectVersion]]] = {}
        self._shared: dict[tuple[str, str], ObjectVersion] = {}
        self._snapshot: Snapshot | None = None
        self._at: int | None = None  # the clock value the snapshot is current for
        self._lock = asyncio.Lock()

    async def snapshot(self) -> Snapshot:
        """The collection as the database holds it now."""
        now = await self._now()
        current = self._current(now)
        if current is not None:
            return current
        async with self._lock:  # one rebuild at a time: the others wait and share it
            current = self._current(now)
            if current is not None:
                return current
            snapshot = await self._rebuild()
            if now is not None:
                self._snapshot, self._at = snapshot, now
            return snapshot

    def _current(self, now: int | None) -> Snapshot | None:
        # The clock only goes up: a snapshot built at a later value is fresh enough.
        if now is None or self._at is None or now > self._at:
            return None
        return self._snapshot

    async def _now(self) -> int | None:
        try:
            return await self.clock.now()
        except Exception:  # the clock cannot say: rebuild (from the days that changed)
            return None

    async def _rebuild(self) -> Snapshot:
        async with self.sessionmaker() as session:
            rows = await session.execute(select(Report.id, Report.day, Report.change_token))
            tokens = {day: token or f"id{report_id}" for report_id, day, token in rows.all()}
            stale = [d for d, token in tokens.items() if self._days.get(d, ("",))[0] != token]
            fresh: dict[date, list[ExportEntry]] = {day: [] for day in stale}
            if len(stale) > _DAY_QUERIES:
                for entry in await entries(session):
                    if entry.day in fresh:
                        fresh[entry.day].append(entry)
            else:
                for day in stale:
                    fresh[day] = await entries(session, first=day, last=day)
        # Building is CPU work (a second for a cold year of days): off the event loop.
        built = await asyncio.to_thread(self._build, fresh)
        days = {day: held for day, held in self._days.items() if day in tokens}
        days.update({day: (tokens[day], versions) for day, versions in built.items()})
        self._days = days
        shared = list(self._shared.values()) if days else []
        return await asyncio.to_thread(build_snapshot, [v for _, v in days.values()], shared)

    def _build(self, fresh: dict[date, list[ExportEntry]]) -> dict[date, list[ObjectVersion]]:
        return {
            day: day_versions(day_objects(found, day=day, options=self.options), self._shared)
            for day, found in fresh.items()
        }
