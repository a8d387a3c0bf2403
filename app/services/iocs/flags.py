"""Marks on indicators that are real but probably not evidence (private helper of iocs.py).

Nothing is dropped: a private address in a report may still matter to the reader (lateral
movement), so each indicator carries flags and the consumer decides. The Markdown digest
leaves out the ``benign`` and ``source-site`` ones; the JSON keeps everything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from app.services.iocs._rules import registrable_domain

BENIGN = "benign"
SOURCE_SITE = "source-site"
DOCUMENTATION = "documentation"
PRIVATE = "private"
LOOPBACK = "loopback"
LINK_LOCAL = "link-local"
RESERVED = "reserved"

# In the spirit of MISP warninglists: public resolvers and the sites every report links
# to. Exact names only (not subdomains, not URLs): evil.github.io or an S3 bucket URL is
# still evidence. SECDIGEST_IOC_BENIGN adds entries.
DEFAULT_BENIGN: tuple[str, ...] = (
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112",
    "208.67.222.222", "208.67.220.220", "2001:4860:4860::8888", "2606:4700:4700::1111",
    "microsoft.com", "windows.com", "windowsupdate.com", "office.com", "live.com",
    "google.com", "googleapis.com", "gstatic.com", "apple.com", "icloud.com", "amazon.com",
    "amazonaws.com", "cloudflare.com", "akamai.net", "akamaized.net", "github.com",
    "githubusercontent.com", "gitlab.com", "virustotal.com", "mitre.org", "attack.mitre.org",
    "cisa.gov", "nist.gov", "nvd.nist.gov", "cve.org", "cve.mitre.org", "twitter.com", "x.com",
    "facebook.com", "linkedin.com", "youtube.com", "mozilla.org", "w3.org", "schema.org",
    "wikipedia.org", "jpcert.or.jp", "ipa.go.jp",
)  # fmt: skip

_DOCUMENTATION_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)
_DOCUMENTATION_NAMES = ("example.com", "example.net", "example.org")
_DOCUMENTATION_TLDS = ("example", "test", "invalid", "localhost")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BenignList:
    """Exact names and addresses or networks that are well known and harmless."""

    __slots__ = ("names", "networks")

    def __init__(self, entries: Iterable[str]) -> None:
        self.names: set[str] = set()
        self.networks: list[IPNetwork] = []
        for entry in entries:
            value = entry.strip().lower().rstrip(".")
            if not value:
                continue
            try:
                self.networks.append(ipaddress.ip_network(value, strict=False))
            except ValueError:
                self.names.add(value)

    @classmethod
    def with_defaults(cls, extra: Iterable[str] = ()) -> BenignList:
        """The built-in list plus the configured entries."""
        return cls([*DEFAULT_BENIGN, *extra])

    def has_name(self, host: str) -> bool:
        """Whether this exact host (or its www. form) is listed."""
        return host in self.names or (host.startswith("www.") and host[4:] in self.names)

    def has_address(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Whether the address lies in a listed network."""
        return any(address in net for net in self.networks)


def _address_flags(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[str]:
    if any(address in net for net in _DOCUMENTATION_NETS):
        return [DOCUMENTATION]
    if address.is_loopback:
        return [LOOPBACK]
    if address.is_link_local:
        return [LINK_LOCAL]
    if address.is_private or (address.version == 4 and address in _SHARED):
        return [PRIVATE]
    if address.is_reserved or address.is_multicast or address.is_unspecified:
        return [RESERVED]
    return []


_SHARED = ipaddress.ip_network("100.64.0.0/10")


def _host_of(kind: str, value: str) -> str:
    if kind == "url":
        return (urlsplit(value).hostname or "").lower()
    if kind == "email":
        return value.rpartition("@")[2]
    return value


def flags_for(
    kind: str, value: str, *, benign: BenignList, source_domain: str | None
) -> tuple[str, ...]:
    """The flags of one indicator (type as its string value, value refanged)."""
    if kind not in ("ipv4", "ipv6", "domain", "url", "email"):
        return ()
    host = _host_of(kind, value)
    flags: list[str] = []
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        flags.extend(_address_flags(address))
        if kind != "url" and benign.has_address(address):
            flags.append(BENIGN)
        return tuple(flags)
    if (
        host in _DOCUMENTATION_NAMES
        or host.rpartition(".")[2] in _DOCUMENTATION_TLDS
        or any(host.endswith("." + name) for name in _DOCUMENTATION_NAMES)
    ):
        flags.append(DOCUMENTATION)
    if kind == "domain" and benign.has_name(host):
        flags.append(BENIGN)
    if source_domain and registrable_domain(host) == source_domain:
        flags.append(SOURCE_SITE)
    return tuple(flags)


def source_domain_of(source_url: str | None) -> str | None:
    """The registrable domain of the page an indicator was found on."""
    if not source_url:
        return None
    host = (urlsplit(source_url).hostname or "").lower()
    return registrable_domain(host) if host else None
