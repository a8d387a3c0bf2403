"""Where the service may connect: the SSRF guard every fetch and every redirect hop go through.

The host is resolved once, here, and every address it resolves to is judged; the fetch then
connects to exactly those addresses (fetch_pin.py), so a DNS server cannot answer "public"
to the check and "private" to the connection (rebinding). Odd notations of an address
(decimal, octal, hex, `127.1`) are judged by what they resolve to; IPv6 forms that carry an
IPv4 address are judged by the address they carry.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from app.errors import FetchBlocked, FetchFailed

log = logging.getLogger("secdigest.fetch")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> every address of the host; injectable so that tests can play DNS.
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

DEFAULT_PORTS = frozenset({80, 443, 8080, 8443})
_SCHEME_PORTS = {"http": 80, "https": 443}

# Listed here rather than left to ipaddress.is_global alone: its tables changed between
# 3.11 patch releases, and a security boundary should not move with the interpreter.
_REFUSED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT; also Alibaba's metadata service 100.100.100.200
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local: AWS/GCP/Azure/OCI metadata, ECS task credentials
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments (Oracle Cloud's old 192.0.0.192)
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",  # reserved, and the broadcast address
        # Azure's WireServer: a public address that each VM reaches as a host-local agent
        # which hands out extension settings (secrets included).
        "168.63.129.16/32",
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",  # local-use NAT64: where the IPv4 part sits depends on the prefix
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo is judged by its client first)
        "2001:db8::/32",
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 segment identifiers
        "fc00::/7",  # unique local: AWS's IPv6 metadata fd00:ec2::254
        "fe80::/10",
        "fec0::/10",  # deprecated site-local
        "ff00::/8",
    )
)
# Refusals that do not say how to allow them: the clouds' metadata and host agents.
_NO_HINT: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # AWS/GCP/Azure/OCI metadata, ECS task credentials
        "fe80::/10",
        "100.100.100.200/32",  # Alibaba
        "168.63.129.16/32",  # Azure's WireServer
        "fd00:ec2::254/128",  # AWS over IPv6
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT, RFC 2765


def carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo...)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address, the one that is reached
    if address in _NAT64 or address in _TRANSLATED:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (deprecated ::a.b.c.d): anything below 2**32 but :: and ::1.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def is_public_address(address: IPAddress) -> bool:
    """Whether an address is on the public Internet (not private, loopback, link-local...)."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = carried_ipv4(address)
        if carried is not None:
            return is_public_address(carried)
    if any(address in network for network in _REFUSED):
        return False
    return bool(address.is_global and not address.is_multicast)


def _ascii_host(host: str) -> str:
    """A host as connections name it: IDNA-encoded, lowercase, no brackets or final dot."""
    host = host.strip().strip("[]").lower()
    with contextlib.suppress(httpx.InvalidURL, UnicodeError):
        host = httpx.URL(f"http://{host}/").raw_host.decode("ascii")
    return host.rstrip(".")


@dataclass(frozen=True, slots=True)
class AllowList:
    """SECDIGEST_FETCH_ALLOW: hosts, host:port pairs and networks that may be fetched anyway.

    An entry is a full trust decision for its destination: a host or a network is allowed on
    any port, a host:port pair on that port only.
    """

    hosts: frozenset[str]
    host_ports: frozenset[tuple[str, int]]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Read `host`, `host:port`, `[v6]:port` and CIDR entries."""
        hosts: set[str] = set()
        host_ports: set[tuple[str, int]] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            host, sep, port = entry.rpartition(":")
            if sep and port.isdigit() and host and (":" not in host or host.startswith("[")):
                host_ports.add((_ascii_host(host), int(port)))
            else:
                hosts.add(_ascii_host(entry))
        return cls(frozenset(hosts), frozenset(host_ports), tuple(networks))

    def allows(self, host: str, port: int, address: IPAddress | None = None) -> bool:
        """Whether this host (or the address it resolved to) is explicitly allowed."""
        host = _ascii_host(host)
        if host in self.hosts or (host, port) in self.host_ports:
            return True
        return address is not None and any(address in net for net in self.networks)


@dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: the host as the connection names it, and where it may go."""

    host: str  # ASCII (IDNA), no brackets: what httpcore hands to the network backend
    port: int
    addresses: tuple[IPAddress, ...]  # every one checked; connections go only here


def target_of(url: httpx.URL) -> tuple[str, int]:
    """Check the parts of a URL that need no lookup; return its host and port."""
    if url.scheme not in _SCHEME_PORTS:
        raise FetchBlocked(f"only http and https URLs are fetched, not {url.scheme or 'none'!r}")
    if url.userinfo:
        raise FetchBlocked("URLs with credentials are not fetched")
    host = url.raw_host.decode("ascii")
    if not host:
        raise FetchBlocked("the URL has no host")
    return host, url.port or _SCHEME_PORTS[url.scheme]


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to, by the system's resolver (getaddrinfo)."""
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


def _literal(host: str) -> tuple[IPAddress, ...]:
    # A standard literal needs no lookup; odd numeric forms (2130706433, 127.1) are left
    # to the resolver, which reads them as the connection would.
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        return ()


def _refuse(host: str, port: int, why: str, address: IPAddress | None = None) -> FetchBlocked:
    # The address goes to our log only: telling the caller what an internal name resolves
    # to would make the service a map of the internal network. The setting that allows the
    # destination names it as the caller did (host and port), never by its address.
    if address is None:
        log.warning("fetch.blocked host=%s port=%s reason=%s", host, port, why)
    else:
        log.warning("fetch.blocked host=%s port=%s address=%s reason=%s", host, port, address, why)
    if address is not None and any(address in net for net in _NO_HINT):
        return FetchBlocked(f"{host} {why}", host=host)  # nobody should allow these
    entry = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return FetchBlocked(
        f"{host} {why}; to allow it: SECDIGEST_FETCH_ALLOW={entry}", host=host, allow=entry
    )


async def check_url(
    url: httpx.URL,
    allow: AllowList,
    *,
    ports: frozenset[int] = DEFAULT_PORTS,
    resolver: Resolver = system_resolver,
) -> Target:
    """Resolve the URL's host once and judge every address; FetchBlocked unless all pass."""
    host, port = target_of(url)
    by_name = allow.allows(host, port)
    if not by_name and port not in ports and not allow.networks:
        raise _refuse(host, port, f"is asked on port {port}, which the service does not fetch from")
    addresses = _literal(host) or tuple(await resolver(host, port))
    if not addresses:
        raise FetchFailed(f"cannot resolve {host}")
    if not by_name:
        for address in addresses:
            if allow.allows(host, port, address):
                continue
            if port not in ports:
                raise _refuse(
                    host, port, f"is asked on port {port}, which the service does not fetch from"
                )
            if not is_public_address(address):
                raise _refuse(host, port, "is not a public address", address)
    return Target(host=host, port=port, addresses=addresses)
