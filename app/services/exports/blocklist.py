"""Blocklists: the indicators of the last N days, one value per line, for firewalls.

The form external dynamic lists read (PAN-OS EDL, FortiGate threat feeds, pfBlockerNG,
OPNsense aliases): a bare value per line, no header, no comment; a URL without its scheme
(`evil.example/gate.php?id=1`) and without its fragment (never sent to a server). Only
unflagged indicators: a benign, documentation or source-site value must never cut anyone
off. And only what that list type can hold, checked again here whatever the database says
(a hostile import, an old row): an address that is not globally routable (private,
loopback, reserved...) is never listed, flagged or not, since a firewall blocking 10.0.0.1
or 127.0.0.1 breaks its own network; a value with a space or a control character is never
listed (a line break would add a line, a space starts an EDL's comment).

The output is deduplicated and sorted (addresses in numeric order): the same indicators give
the same bytes, and so the same ETag, whatever the order of the entries.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest, NotFound
from app.models import Report
from app.services.exports.entries import ExportEntry, entries
from app.services.reports import today
from app.services.reports.reads import RELEASE, Rendered, ReportReads, Representation

BLOCKLIST_TYPES = ("ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256", "sha512")
# The IP lists hold the networks of their version too (PAN-OS and FortiGate read CIDR lines).
_NETWORK_OF = {"ipv4_cidr": "ipv4", "ipv6_cidr": "ipv6"}
# No line of a list blocks more than a /8 (a /16 in IPv6), nor any non-public space.
_WIDEST = {4: 8, 6: 16}
_SPECIAL = {
    4: [
        ipaddress.ip_network(n)
        for n in (
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
            "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
            "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
        )
    ],
    6: [
        ipaddress.ip_network(n)
        for n in (
            "::/8", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20",
            "fc00::/7", "fe80::/10", "ff00::/8",
        )
    ],
}  # fmt: skip
# A month by default: long enough for the campaigns of a digest, short enough that a
# firewall does not keep blocking infrastructure that has since changed hands.
DEFAULT_DAYS = 30
MAX_DAYS = 365
TEXT = "text/plain; charset=utf-8"

_HASH = {
    "md5": re.compile(r"[0-9a-f]{32}"),
    "sha1": re.compile(r"[0-9a-f]{40}"),
    "sha256": re.compile(r"[0-9a-f]{64}"),
    "sha512": re.compile(r"[0-9a-f]{128}"),
}
# A DNS name of letters, digits and hyphens (IDNs in their xn-- form), a dot between labels,
# a TLD of letters (or xn--): no wildcard, no underscore, no IP address.
_DOMAIN = re.compile(
    r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)


def _address(value: str, version: int) -> str | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version != version or not address.is_global:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return None  # fe80::1%eth0 names a link of the machine that wrote it
    return str(address)  # canonical: 2001:db8::1, never 2001:0db8:0:0::1


def _network(value: str, version: int) -> str | None:
    """A public network in CIDR notation (`185.220.101.0/24`), or None: a firewall's IP list
    takes networks beside addresses, never one that covers private or reserved space."""
    try:
        network = ipaddress.ip_network(value)  # strict: host bits set is no network
    except ValueError:
        return None
    if network.version != version or network.prefixlen < _WIDEST[version]:
        return None
    # `is_global` of a network only looks at its own range: 100.0.0.0/8 is "global" and
    # still holds the shared 100.64.0.0/10.
    if any(network.overlaps(special) for special in _SPECIAL[version]):
        return None
    return network.with_prefixlen


def _domain(value: str) -> str | None:
    name = value.rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")  # bücher.example -> xn--bcher-kva.example
    except UnicodeError:
        return None
    return name if _DOMAIN.fullmatch(name) else None


def _url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return None
    try:
        if not ipaddress.ip_address(hostname).is_global:
            return None
        host = f"[{hostname}]" if ":" in hostname else hostname
    except ValueError:
        found = _domain(hostname)
        if found is None:
            return None
        host = found
    # Credentials in a URL (`http://bank.example@evil.example/`) are a lure, not where it
    # goes: the line names the host it goes to.
    line = host + (f":{port}" if port is not None else "") + parts.path
    if parts.query:
        line += "?" + parts.query
    return line


def _listable(value: str) -> bool:
    # isprintable() is false for every control, format and separator character (line and
    # paragraph separators, NBSP, the ideographic space) but the ASCII space, refused too.
    return bool(value) and value.isprintable() and " " not in value


def edl_value(ioc_type: str, value: str) -> str | None:
    """The line a blocklist of `ioc_type` holds for `value`, or None when it holds none."""
    value = value.strip()
    if not _listable(value):
        return None
    if ioc_type == "ipv4":
        return _address(value, 4)
    if ioc_type == "ipv6":
        return _address(value, 6)
    if ioc_type in _NETWORK_OF:
        return _network(value, 4 if ioc_type == "ipv4_cidr" else 6)
    if ioc_type == "domain":
        return _domain(value)
    if ioc_type == "url":
        return _url(value)
    pattern = _HASH.get(ioc_type)
    if pattern is not None:
        digest = value.lower()
        return digest if pattern.fullmatch(digest) else None
    return None


def _order(ioc_type: str, line: str) -> Any:
    if ioc_type in ("ipv4", "ipv6"):
        network = ipaddress.ip_network(line)  # an address is its own /32 or /128
        return network.network_address.packed, network.prefixlen
    return line


def blocklist_text(found: Iterable[ExportEntry], *, ioc_type: str) -> bytes:
    """The blocklist of `ioc_type` of these entries: unflagged values, one per line."""
    if ioc_type not in BLOCKLIST_TYPES:
        raise NotFound(f"no blocklist of type {ioc_type!r}: {', '.join(BLOCKLIST_TYPES)}")
    lines = {
        line
        for entry in found
        for ioc in entry.exported_iocs(include_flagged=False)
        if ioc.type == ioc_type or _NETWORK_OF.get(ioc.type) == ioc_type
        for line in (edl_value(ioc.type, ioc.value),)
        if line is not None
    }
    ordered = sorted(lines, key=lambda line: _order(ioc_type, line))
    return "".join(f"{line}\n" for line in ordered).encode("utf-8")


def window(days: int, now: date) -> tuple[date, date]:
    """The first and last day of the last `days` days, today (`now`) included."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidRequest(f"days must be between 1 and {MAX_DAYS}, not {days}")
    return now - timedelta(days=days - 1), now


@dataclass(frozen=True, slots=True)
class Listing:
    """Which blocklist, over which days, in which state of those days."""

    ioc_type: str
    first: date
    last: date
    representation: Representation


async def _range_state(session: AsyncSession, first: date, last: date) -> tuple[str, str | None]:
    """A token of the state of the reports of those days, and their newest change."""
    rows = (
        await session.execute(
            select(Report.id, Report.change_token, Report.updated_at)
            .where(Report.day >= first, Report.day <= last)
            .order_by(Report.day)
        )
    ).all()
    token = hashlib.blake2b(
        repr([(report_id, change) for report_id, change, _ in rows]).encode(), digest_size=16
    ).hexdigest()
    newest = max((updated for *_, updated in rows), default=None)
    return token, format_datetime(newest, usegmt=True) if newest else None


class Blocklists:
    """Blocklists memoized per change-clock value and day, their bytes in the render cache.

    A firewall polling every five minutes while nothing changed costs the clock's tiny
    read: the window's state comes from memory, and the ETag says 304. The window moves when
    the day rolls over (in SECDIGEST_TIMEZONE), and with it the memo's key.
    """

    def __init__(self, reads: ReportReads) -> None:
        self.reads = reads
        self._clock_seen: int | None = None
        self._states: dict[tuple[date, date], tuple[str, str | None]] = {}

    async def listing(self, ioc_type: str, *, days: int, tz: tzinfo) -> Listing:
        """The blocklist's current representation (its ETag) without its bytes."""
        if ioc_type not in BLOCKLIST_TYPES:
            raise NotFound(f"no blocklist of type {ioc_type!r}: {', '.join(BLOCKLIST_TYPES)}")
        first, last = window(days, today(tz))
        clock = await self._clock()
        if clock != self._clock_seen or clock is None:
            self._clock_seen, self._states = clock, {}
        state = self._states.get((first, last))
        if state is None:
            async with self.reads.sessionmaker() as session:
                state = await _range_state(session, first, last)
            if clock is not None:
                self._states[(first, last)] = state
        return Listing(ioc_type, first, last, _representation(ioc_type, first, last, state))

    async def body(self, listing: Listing) -> Rendered:
        """The bytes of a listing, from the render cache or rendered from the rows."""
        representation = listing.representation
        body = await self.reads.cache.get(representation.key)
        if body is None:
            async with self.reads.sessionmaker() as session:
                # State and rows in one transaction: the bytes go under the key of the
                # state they were rendered from.
                state = await _range_state(session, listing.first, listing.last)
                found = await entries(session, first=listing.first, last=listing.last)
            representation = _representation(listing.ioc_type, listing.first, listing.last, state)
            body = blocklist_text(found, ioc_type=listing.ioc_type)
            await self.reads.cache.put(representation.key, body)
        return Rendered(representation, body, gzipped=False)

    async def _clock(self) -> int | None:
        try:
            return await self.reads.clock.now()
        except Exception:  # any failure means: trust nothing kept
            return None


def _representation(
    ioc_type: str, first: date, last: date, state: tuple[str, str | None]
) -> Representation:
    token, last_modified = state
    key = f"blocklist:{ioc_type}:{first.isoformat()}:{last.isoformat()}:{token}:{RELEASE}"
    etag = 'W/"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'
    return Representation(key, None, etag, TEXT, last_modified)
