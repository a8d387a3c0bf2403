"""MISP: a day's entries as MISP events, and the MISP feed of every stored day.

One event per entry, not one per day: an entry is one story with its own source, and a MISP
analyst triages, tags, publishes and correlates per story; an event of a whole day would put
a phishing kit and a ransomware leak under one threat level and one set of tags. Events are
built with PyMISP's own object model, and the feed with its own writers (`to_feed`,
`manifest`, `attributes_hashes`): the bytes are those of MISP's feed generator.

Identity, stable across exports, processes and releases (uuid5, nothing random):
- the producer organisation (Orgc): uuid5(NAMESPACE, "orgc:" + SECDIGEST_PRODUCER_NAME);
- an entry's event: uuid5(Orgc uuid, "<day>/<item id>"). The producer is part of it so that
  two installations (whose item ids both start at 1) never claim each other's events in a
  MISP that subscribes to both;
- an attribute: uuid5(event uuid, "<MISP type>|<value>").

An event: `info` the title, `date` the day, `timestamp` and `publish_timestamp` the entry's
`updated_at` (a curated entry moves, so MISP's feed pull updates it), analysis 2 (completed:
the entry is the finished digest), threat_level_id 4 (undefined: a news story carries no
assessed threat level, and a made-up one would rank events in MISP), published, the TLP tag
(`tlp:clear`...), one `misp-galaxy:mitre-attack-pattern="<name> - <id>"` tag per known ATT&CK
technique (MISP's galaxy value: the technique's own name, sub-techniques included). Its
attributes: the indicators (`to_ids` true; false for flagged ones, kept only when asked, with
their flags in the comment), CVEs as `vulnerability`, the source and the other sites' URLs as
`link`, the summary as one `text` attribute (correlation off: prose correlates with nothing).

PyMISP is imported when an event is first built: a process that never exports in MISP
(a worker, `secdigest iocs`) does not pay for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models import Report
from app.services.exports.entries import ExportEntry, entries
from app.services.exports.render import ExportOptions
from app.services.reports.reads import RELEASE, Rendered, ReportReads, Representation
from app.services.summarize.attack import lookup

if TYPE_CHECKING:
    from pymisp import MISPEvent

# Fixed forever: every UUID this module derives starts from it.
NAMESPACE = uuid.UUID("eed84011-2a95-4e6a-8be7-9c5e3d84286d")

# Our indicator types as MISP attribute types and categories (MISP's describeTypes).
# attack_technique is a galaxy tag instead; "other" (a line no rule recognises) is left out.
ATTRIBUTE_TYPES: dict[str, tuple[str, str]] = {
    "ipv4": ("ip-dst", "Network activity"),
    "ipv6": ("ip-dst", "Network activity"),
    "domain": ("domain", "Network activity"),
    "url": ("url", "Network activity"),
    "email": ("email-src", "Payload delivery"),
    "md5": ("md5", "Payload delivery"),
    "sha1": ("sha1", "Payload delivery"),
    "sha256": ("sha256", "Payload delivery"),
    "sha512": ("sha512", "Payload delivery"),
    "cve": ("vulnerability", "External analysis"),
    # MISP's ip-dst takes a network in CIDR notation.
    "ipv4_cidr": ("ip-dst", "Network activity"),
    "ipv6_cidr": ("ip-dst", "Network activity"),
    "asn": ("AS", "Network activity"),
    "bitcoin": ("btc", "Financial fraud"),
    "monero": ("xmr", "Financial fraud"),
    # MISP has no Ethereum type: a text attribute, named in its comment.
    "ethereum": ("text", "Financial fraud"),
    # MISP's filename holds a path as well (there is no path type).
    "file_path": ("filename", "Payload delivery"),
    "registry_key": ("regkey", "Persistence mechanism"),
    "ssdeep": ("ssdeep", "Payload delivery"),
    "tlsh": ("tlsh", "Payload delivery"),
    "imphash": ("imphash", "Payload delivery"),
    "ja3": ("ja3-fingerprint-md5", "Network activity"),
    "jarm": ("jarm-fingerprint", "Network activity"),
    # No MISP type yet for a server's JA3S or for JA4: text attributes, named in the comment.
    "ja3s": ("text", "Network activity"),
    "ja4": ("text", "Network activity"),
    "cwe": ("weakness", "External analysis"),
}
# A CVE or CWE id names a weakness, an ASN a network's owner: nothing for an IDS to match.
_NOT_FOR_DETECTION = frozenset({"vulnerability", "weakness", "AS"})
# What a text attribute holds, in its comment (the type does not say).
_TEXT_KINDS = {"ethereum": "Ethereum address", "ja3s": "JA3S fingerprint", "ja4": "JA4 fingerprint"}
# The colours of MISP's tlp taxonomy (a MISP that has the taxonomy uses its own).
TLP_COLOURS = {
    "clear": "#ffffff",
    "green": "#339900",
    "amber": "#FFC000",
    "amber+strict": "#FFC000",
    "red": "#CC0033",
}
# TLP as MISP distribution, in the day's answer (an import keeps it): CLEAR is public (3, all
# communities); GREEN stays in the community (1, this community only); AMBER, AMBER+STRICT
# and RED stay in the recipient's organisation (0, the nearest MISP has to RED's named
# people). A feed carries none: the subscribing MISP applies its feed's own distribution.
DISTRIBUTION = {"clear": 3, "green": 1, "amber": 0, "amber+strict": 0, "red": 0}
# MISP's galaxy of ATT&CK techniques; its values read "<name> - <id>".
ATTACK_GALAXY = "misp-galaxy:mitre-attack-pattern"
JSON = "application/json"
CSV = "text/csv; charset=utf-8"


def org_uuid(producer: str) -> uuid.UUID:
    """The producer organisation's UUID (MISP's Orgc)."""
    return uuid.uuid5(NAMESPACE, f"orgc:{producer}")


def event_uuid(entry: ExportEntry, producer: str) -> str:
    """The stable UUID of an entry's event."""
    return str(uuid.uuid5(org_uuid(producer), f"{entry.day.isoformat()}/{entry.item_id}"))


def _timestamp(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes that are UTC; PyMISP would read them as local time.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def build_event(entry: ExportEntry, options: ExportOptions) -> MISPEvent:
    """The MISP event of one entry (see the module's docstring for the mapping)."""
    from pymisp import MISPEvent, MISPOrganisation  # noqa: PLC0415 - loaded on first export

    event = MISPEvent()
    event.uuid = event_uuid(entry, options.producer)
    event.info = entry.title.strip() or entry.url or f"entry {entry.item_id}"
    event.date = entry.day
    changed = _timestamp(entry.updated_at)
    event.timestamp = changed
    event.publish_timestamp = changed
    event.analysis = 2
    event.threat_level_id = 4
    event.published = True
    orgc = MISPOrganisation()
    orgc.name = options.producer
    orgc.uuid = str(org_uuid(options.producer))
    event.Orgc = orgc
    event.add_tag(name=f"tlp:{options.tlp}", colour=TLP_COLOURS[options.tlp])
    seen: set[tuple[str, str]] = set()

    def add(kind: str, category: str, value: str, **extra: Any) -> None:
        if (kind, value) in seen:  # one attribute per value: its UUID is derived from it
            return
        seen.add((kind, value))
        event.add_attribute(
            kind,
            value,
            category=category,
            uuid=str(uuid.uuid5(uuid.UUID(event.uuid), f"{kind}|{value}")),
            timestamp=changed,
            **extra,
        )

    for ioc in entry.exported_iocs(include_flagged=options.include_flagged):
        if ioc.type == "attack_technique":
            technique = lookup(ioc.value)
            if technique is not None:
                event.add_tag(f'{ATTACK_GALAXY}="{technique.name} - {technique.id}"')
            else:  # an id ATT&CK never had: kept as the article wrote it, never a made-up name
                add("text", "External analysis", ioc.value, to_ids=False, comment="ATT&CK id")
            continue
        if ioc.type not in ATTRIBUTE_TYPES:
            continue
        kind, category = ATTRIBUTE_TYPES[ioc.type]
        flagged = bool(ioc.flags)
        notes = [_TEXT_KINDS[ioc.type]] if ioc.type in _TEXT_KINDS else []
        notes += [f"flagged: {', '.join(ioc.flags)}"] if flagged else []
        add(
            kind,
            category,
            ioc.value,
            to_ids=not flagged and kind not in _NOT_FOR_DETECTION and kind != "text",
            comment="; ".join(notes),
        )
    for url in (entry.url, *entry.sources):
        if url:
            add("link", "External analysis", url, to_ids=False, comment="source")
    if entry.summary:
        add(
            "text",
            "Other",
            "\n".join(entry.summary),
            to_ids=False,
            disable_correlation=True,
            comment="summary",
        )
    return event


def feed_event(event: MISPEvent) -> dict[str, Any]:
    """An event as MISP's feed generator writes it: `{"Event": {...}}`."""
    # Never with_distribution=True: PyMISP adds "distribution" to a class-wide field set
    # then, and every later event of the process would carry it.
    return event.to_feed()


def day_events(entries: list[ExportEntry], *, day: date, options: ExportOptions) -> bytes:
    """A day's entries as MISP events, one per entry, in the shape of MISP's restSearch:
    `{"response": [{"Event": {...}}, ...]}` (what MISP answers and imports)."""
    response = []
    for entry in entries:
        event = feed_event(build_event(entry, options))
        event["Event"]["distribution"] = str(DISTRIBUTION[options.tlp])
        response.append(event)
    return orjson.dumps({"response": response})


# ---------------------------------------------------------------------------- the feed


@dataclass(frozen=True, slots=True)
class _DayPart:
    """One day's share of the feed: manifest rows, hashes.csv lines, event files."""

    manifest: dict[str, Any]
    hashes: list[str]
    events: dict[str, bytes]


def _day_part(day_entries: Iterable[ExportEntry], options: ExportOptions) -> _DayPart:
    manifest: dict[str, Any] = {}
    hashes: list[str] = []
    events: dict[str, bytes] = {}
    for entry in day_entries:
        event = build_event(entry, options)
        events[event.uuid] = orjson.dumps(feed_event(event))
        manifest.update(event.manifest)
        # MISP's feed cache looks values up by the md5 of each attribute's value.
        hashes.extend(f"{digest},{event.uuid}" for digest in event.attributes_hashes("md5"))
    return _DayPart(manifest, hashes, events)


@dataclass(frozen=True, slots=True)
class _Feed:
    """The feed of one state of every day: its three kinds of file."""

    token: str
    last_modified: str | None
    parts: dict[tuple[date, int, str], _DayPart]
    manifest: bytes
    hashes: bytes
    events: dict[str, bytes]


def _etag(key: str) -> str:
    # Weak, as the day's ETags: the same state may be sent plain or gzip-compressed.
    return 'W/"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'


class MispFeed:
    """The MISP feed of every stored day, rebuilt only for the days that changed.

    A poll asks the change clock (app/clock.py): while it reads the same value, the bytes
    come from memory without a query. After a change, one query reads every day's change
    token, and only the days whose token moved are rendered again (in a thread: PyMISP
    takes about 0.2 ms per event), so a curated entry today costs today's events, not the
    archive's.
    """

    def __init__(self, reads: ReportReads) -> None:
        self.reads = reads
        self._clock_seen: int | None = None
        self._feeds: dict[str, _Feed] = {}  # by options key
        self._lock = asyncio.Lock()

    async def manifest(self, options: ExportOptions) -> Rendered:
        """`manifest.json`: every event's uuid with its info, date, timestamp, Orgc, tags."""
        feed = await self._feed(options)
        return self._rendered(f"{feed.token}:manifest", feed.manifest, JSON, feed.last_modified)

    async def hashes(self, options: ExportOptions) -> Rendered:
        """`hashes.csv`: one `md5(value),event uuid` line per attribute."""
        feed = await self._feed(options)
        return self._rendered(f"{feed.token}:hashes", feed.hashes, CSV, feed.last_modified)

    async def event(self, name: str, options: ExportOptions) -> Rendered:
        """`<uuid>.json`: one event, `{"Event": {...}}`; NotFound for an unknown uuid."""
        feed = await self._feed(options)
        key = name.strip().lower()
        body = feed.events.get(key)
        if body is None:
            raise NotFound(f"the MISP feed has no event {name!r}")
        return self._rendered(f"{feed.token}:{key}", body, JSON, feed.last_modified)

    @staticmethod
    def _rendered(key: str, body: bytes, media_type: str, last_modified: str | None) -> Rendered:
        key = f"mispfeed:{key}:{RELEASE}"
        return Rendered(
            Representation(key, None, _etag(key), media_type, last_modified), body, False
        )

    async def _feed(self, options: ExportOptions) -> _Feed:
        clock = await self._clock()
        known = self._feeds.get(options.key)
        if clock is not None and clock == self._clock_seen and known is not None:
            return known
        async with self._lock:  # one rebuild at a time; the others then find it done
            known = self._feeds.get(options.key)
            if clock is not None and clock == self._clock_seen and known is not None:
                return known
            async with self.reads.sessionmaker() as session:
                # The days' tokens and the changed days' rows in one transaction: the
                # parts are stored under the state they were rendered from.
                feed = await self._rebuild(session, options, known)
            if clock is not None and clock != self._clock_seen:
                self._clock_seen = clock
                self._feeds = {}
            self._feeds[options.key] = feed
            return feed

    async def _rebuild(
        self, session: AsyncSession, options: ExportOptions, known: _Feed | None
    ) -> _Feed:
        rows = (
            await session.execute(
                select(Report.day, Report.id, Report.change_token, Report.updated_at).order_by(
                    Report.day
                )
            )
        ).all()
        # A token-less row (none should exist) keys on its id, as the read path does.
        states = [(day, report_id, token or f"id{report_id}") for day, report_id, token, _ in rows]
        token = hashlib.blake2b(repr((states, options.key)).encode(), digest_size=16).hexdigest()
        if known is not None and known.token == token:
            return known
        old = known.parts if known is not None else {}
        missing = [state for state in states if state not in old]
        parts = {state: old[state] for state in states if state in old}
        if missing:
            found = await entries(session, first=missing[0][0], last=missing[-1][0])
            by_day: dict[date, list[ExportEntry]] = defaultdict(list)
            for entry in found:
                by_day[entry.day].append(entry)
            wanted = {state[0]: state for state in missing}
            built = await asyncio.to_thread(
                lambda: {
                    state: _day_part(by_day.get(day, ()), options) for day, state in wanted.items()
                }
            )
            parts.update(built)
        ordered = [parts[state] for state in states]
        manifest: dict[str, Any] = {}
        events: dict[str, bytes] = {}
        lines: list[str] = []
        for part in ordered:
            manifest.update(part.manifest)
            events.update(part.events)
            lines.extend(part.hashes)
        newest = max((updated for *_, updated in rows), default=None)
        return _Feed(
            token=token,
            last_modified=format_datetime(newest, usegmt=True) if newest else None,
            parts=parts,
            manifest=orjson.dumps(manifest),
            # As PyMISP's feed_meta_generator writes it: "\n" line ends, no header (MISP's
            # fetcher splits on "\n" and ",").
            hashes="".join(f"{line}\n" for line in lines).encode(),
            events=events,
        )

    async def _clock(self) -> int | None:
        try:
            return await self.reads.clock.now()
        except Exception:  # any failure means: trust nothing kept
            return None
