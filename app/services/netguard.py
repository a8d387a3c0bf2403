"""Where the service may connect: the basic SSRF guard every fetch goes through.

Addresses are judged after resolution, so odd notations of an address (decimal, octal,
short forms) are judged by what they resolve to. IPv6 forms that carry an IPv4 address
are judged by the address they carry.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from app.errors import FetchBlocked, FetchFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address, the one that is reached
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (deprecated ::a.b.c.d): anything below 2**32 but :: and ::1.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def is_public_address(address: IPAddress) -> bool:
    """Whether an address is on the public Internet (not private, loopback, link-local...)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not address.is_link_local
        and not address.is_loopback
    )


@dataclass(frozen=True, slots=True)
class AllowList:
    """SECDIGEST_FETCH_ALLOW: hosts, host:port pairs and networks that may be fetched anyway."""

    hosts: frozenset[str]
    host_ports: frozenset[tuple[str, int]]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Read `host`, `host:port`, `[v6]:port` and CIDR entries."""
        hosts: set[str] = set()
        host_ports: set[tuple[str, int]] = set()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, sep, port = entry.rpartition(":")
            if sep and port.isdigit() and host and (":" not in host or host.startswith("[")):
                host_ports.add((host.strip("[]"), int(port)))
            else:
                hosts.add(entry.strip("[]"))
        return cls(frozenset(hosts), frozenset(host_ports), tuple(networks))

    def allows(self, host: str, port: int, address: IPAddress | None = None) -> bool:
        """Whether this host (or the address it resolved to) is explicitly allowed."""
        host = host.lower()
        if host in self.hosts or (host, port) in self.host_ports:
            return True
        return address is not None and any(address in net for net in self.networks)


def target_of(url: httpx.URL) -> tuple[str, int]:
    """Check the parts of a URL that need no lookup; return its host and port."""
    if url.scheme not in _DEFAULT_PORTS:
        raise FetchBlocked(f"only http and https URLs are fetched, not {url.scheme or 'none'!r}")
    if url.userinfo:
        raise FetchBlocked("URLs with credentials are not fetched")
    host = url.host
    if not host:
        raise FetchBlocked("the URL has no host")
    return host, url.port or _DEFAULT_PORTS[url.scheme]


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchFailed(f"cannot resolve {host}") from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def check_url(url: httpx.URL, allow: AllowList) -> None:
    """Refuse (FetchBlocked) a URL whose host is not a public address, unless allowed."""
    host, port = target_of(url)
    if allow.allows(host, port):
        return
    for address in await resolve(host, port):
        if not is_public_address(address) and not allow.allows(host, port, address):
            raise FetchBlocked(
                f"{host} resolves to {address}, which is not a public address",
                host=host,
            )
