"""Marks on indicators that are real but probably not evidence (private helper of finder.py).

Nothing is dropped: a private address in a report may still matter to the reader (lateral
movement), so each indicator carries flags and the consumer decides. The Markdown digest
leaves out the ``benign`` and ``source-site`` ones; the JSON keeps everything.

A flag stays a bare string (``"benign" in flags`` is what consumers test); why an indicator
is ``benign`` is asked separately, only for the few that are: ``benign_reason`` (or
``flag_reasons``, the ``{flag: reason}`` form) names the list that holds it: ours, the
operator's (``SECDIGEST_IOC_BENIGN``) or a MISP warning list (read from the files that
``pymispwarninglists`` ships, never fetched, on the first lookup that needs them).
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
ONION = "onion"

OWN_REASON = "secdigest list"
CONFIGURED_REASON = "SECDIGEST_IOC_BENIGN"
MISP_REASON = "MISP warning list: "  # + the list's name

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

# The MISP warning lists (directory names in misp-warninglists) that make an indicator
# benign. The rule: a list is in only if no attacker can own or rent what it lists, since a
# benign flag hides an indicator from the digest and a warning list must not flag real C2.
# Matching: `string` lists exactly (a leading "." is dropped, never read as "any
# subdomain": .azurewebsites.net, .cloudapp.net, .blob.core.windows.net are tenants'
# names), `hostname` lists a name and its subdomains, `substring` lists like hostnames
# (a substring would flag mcafee.com-renew.top), `cidr` lists by network.
MISP_WARNING_LISTS: tuple[str, ...] = (
    # In: names the vendor itself runs, exact (its tenants' names are subdomains).
    "google", "microsoft", "microsoft-office365", "microsoft-win10-connection-endpoints",
    # In: connectivity checks and what-is-my-IP services that malware queries: contacted,
    # never the attacker's.
    "captive-portals", "whats-my-ip", "findip-host",
    # In: sandboxes that reports link to; Cisco Umbrella's block pages.
    "automated-malware-analysis", "umbrella-blockpage-hostname", "umbrella-blockpage-v4",
    "umbrella-blockpage-v6",
    # In: hashes of no malware: empty content, the EICAR test file.
    "empty-hashes", "eicar.com",
)  # fmt: skip
# Out (bench/warninglists.py shows what each would flag in the truth): popularity lists
# (tranco*, alexa, cisco_top*, majestic_million, moz-top500, google-chrome-crux-1million,
# university_domains): popular sites get compromised and host C2; cloud, CDN, hosting, VPN
# and mail ranges (amazon-aws, microsoft-azure*, google-gcp, ovh-cluster, akamai,
# cloudflare, fastly, stackpath, github, microsoft-office365-ip, zscaler, vpn-*, smtp-*):
# attackers rent them (vpn-ipv4 holds 116 ESET truth addresses); public-dns-*: every open
# resolver seen, attackers' servers among them (ours keeps the major resolvers); names
# anyone gets a subdomain, path or account on (dynamic-dns, lots-project, url-shortener,
# public-ipfs-gateways, digitalside, security-provider-blogpost, disposable-email);
# sinkholes: traffic to one means an infected host, what a reader hunts; rfc*,
# ipv6-linklocal, multicast: our own flags mark them, and benign would hide them;
# nioc-filehash, ti-falsepositives, common-ioc-false-positive: legitimate binaries, which
# reports list when attackers bring them (side-loading hosts); the rest (scanners, CA
# fingerprints, banks, covid, tlds) are no indicators in articles.

_HASH_KINDS = frozenset({"md5", "sha1", "sha256", "sha512", "ssdeep"})
_HASH_ATTRIBUTES = frozenset({"md5", "sha1", "sha224", "sha256", "sha512", "ssdeep"})
_NAME_KINDS = frozenset({"ipv4", "ipv6", "domain", "url", "email"})

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class _Networks:
    """Networks with a reason each, looked up by prefix length: one dict probe per length."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        # (version, prefix length) -> {network bits: reason}; the first entry for a key wins
        self._tables: dict[tuple[int, int], dict[int, str]] = {}

    def add(self, net: IPNetwork, reason: str) -> None:
        key = int(net.network_address) >> (net.max_prefixlen - net.prefixlen)
        self._tables.setdefault((net.version, net.prefixlen), {}).setdefault(key, reason)

    def reason(self, bits: int, version: int, prefixlen: int) -> str | None:
        """The reason of a listed network holding all of ``bits/prefixlen`` (an address:
        its full length), None if none does."""
        width = 32 if version == 4 else 128
        for (listed_version, length), table in self._tables.items():
            if listed_version == version and length <= prefixlen:
                found = table.get(bits >> (width - length))
                if found is not None:
                    return found
        return None


class _Entries:
    """Exact names (and hashes), names with their subdomains, networks: each with a reason."""

    __slots__ = ("exact", "hashes", "networks", "suffixes")

    def __init__(self) -> None:
        self.exact: dict[str, str] = {}
        self.suffixes: dict[str, str] = {}
        self.hashes: dict[str, str] = {}
        self.networks = _Networks()

    def add(self, entry: str, reason: str, *, subdomains: bool = False) -> None:
        value = entry.strip().lower().strip(".")
        if not value:
            return
        if value[0].isdigit() or ":" in value:  # (a parse that fails costs 3 µs a name)
            try:
                self.networks.add(ipaddress.ip_network(value, strict=False), reason)
                return
            except ValueError:
                pass
        if not any(c in value for c in "/*: "):  # a URL or a pattern: not a name
            (self.suffixes if subdomains else self.exact).setdefault(value, reason)

    def name(self, host: str) -> str | None:
        found = self.exact.get(host)
        if found is None and host.startswith("www."):
            found = self.exact.get(host[4:])
        if found is None and self.suffixes:
            rest = host
            while found is None and rest:
                found = self.suffixes.get(rest)
                rest = rest.partition(".")[2]
        return found


class BenignList:
    """Names, addresses, networks and hashes that are well known and harmless, with why."""

    __slots__ = ("_entries", "_warninglists")

    def __init__(
        self,
        entries: Iterable[str],
        *,
        reason: str = CONFIGURED_REASON,
        warninglists: bool = False,
    ) -> None:
        self._entries = _Entries()
        self._warninglists = warninglists
        self._add(entries, reason)

    def _add(self, entries: Iterable[str], reason: str) -> None:
        for entry in entries:
            self._entries.add(entry, reason)

    @classmethod
    def with_defaults(cls, extra: Iterable[str] = (), *, warninglists: bool = True) -> BenignList:
        """The configured entries, our built-in list and the chosen MISP warning lists.

        The warning lists are read on the first lookup that needs them, not here.
        """
        found = cls(extra, reason=CONFIGURED_REASON, warninglists=warninglists)
        found._add(DEFAULT_BENIGN, OWN_REASON)  # the operator's reason wins on a tie
        return found

    def name_reason(self, host: str) -> str | None:
        """Why this host is benign: listed exactly (or its www. form), or a listed
        warning-list hostname or one of its subdomains; None if it is not."""
        found = self._entries.name(host)
        if found is None and self._warninglists:
            found = _warning_entries().name(host)
        return found

    def network_reason(self, net: IPNetwork | IPAddress) -> str | None:
        """Why this address (or all of this network) is benign: a listed network holds it."""
        if isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network):
            key = (int(net.network_address), net.version, net.prefixlen)
        else:
            key = (int(net), net.version, net.max_prefixlen)
        found = self._entries.networks.reason(*key)
        if found is None and self._warninglists:
            found = _warning_entries().networks.reason(*key)
        return found

    def hash_reason(self, value: str) -> str | None:
        """Why this hash is benign (empty content, a test file, a configured entry)."""
        value = value.lower()
        found = self._entries.exact.get(value)
        if found is None and self._warninglists:
            found = _warning_entries().hashes.get(value)
        return found


_warning: _Entries | None = None


def _warning_entries() -> _Entries:
    """The chosen MISP warning lists, read once from pymispwarninglists' own files.

    The package is not imported (its import reaches for requests, and only its
    ``update_warninglists`` fetches): its data directory is found and read. Without the
    package there are no warning-list entries.
    """
    global _warning  # noqa: PLW0603 - built once, read-only afterwards
    if _warning is None:
        _warning = _load_warning_lists(MISP_WARNING_LISTS)
    return _warning


def _load_warning_lists(names: Iterable[str]) -> _Entries:
    import json  # noqa: PLC0415 - not at start-up: only when a flag needs the lists
    from importlib.util import find_spec  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    entries = _Entries()
    spec = find_spec("pymispwarninglists")
    if spec is None or not spec.submodule_search_locations:
        return entries
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "misp-warninglists"
    for name in names:
        data = json.loads((root / "lists" / name / "list.json").read_text(encoding="utf-8"))
        reason = MISP_REASON + str(data["name"])
        kind = data["type"]
        if _HASH_ATTRIBUTES.intersection(data.get("matching_attributes", ())):
            for value in data["list"]:
                entries.hashes.setdefault(str(value).strip().lower(), reason)
        elif kind in ("string", "hostname", "substring", "cidr"):
            for value in data["list"]:
                entries.add(str(value), reason, subdomains=kind in ("hostname", "substring"))
    return entries


# Special ranges for a network indicator: it gets a range's flag only when it lies wholly
# inside it (a network that merely overlaps one, 10.0.0.0/7 or 0.0.0.0/0, also covers
# public addresses, which may be evidence). Labels agree with _address_flags on both ends.
_SPECIAL_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), flag)
    for nets, flag in (
        (("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20"),
         DOCUMENTATION),
        (("127.0.0.0/8", "::1/128"), LOOPBACK),
        (("169.254.0.0/16", "fe80::/10"), LINK_LOCAL),
        (("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "0.0.0.0/8",
          "192.0.0.0/29", "198.18.0.0/15", "240.0.0.0/4", "fc00::/7"), PRIVATE),
        (("224.0.0.0/4", "ff00::/8"), RESERVED),
    )
    for net in nets
)  # fmt: skip
_SPECIAL_RANGES = tuple(
    (net.version, int(net.network_address), int(net.broadcast_address), flag)
    for net, flag in _SPECIAL_NETWORKS
)
_DOCUMENTATION_NETS = tuple(net for net, flag in _SPECIAL_NETWORKS if flag == DOCUMENTATION)
_DOCUMENTATION_NAMES = ("example.com", "example.net", "example.org")
_DOCUMENTATION_TLDS = ("example", "test", "invalid", "localhost")
_SHARED = ipaddress.ip_network("100.64.0.0/10")

# ASNs that no network on the Internet announces (RFC 5398, RFC 6996, RFC 7300, IANA).
_ASN_RANGES: tuple[tuple[int, int, str], ...] = (
    (64496, 64511, DOCUMENTATION), (65536, 65551, DOCUMENTATION),
    (64512, 65534, PRIVATE), (4200000000, 4294967294, PRIVATE),
    (0, 0, RESERVED), (23456, 23456, RESERVED), (65535, 65535, RESERVED),
    (65552, 131071, RESERVED), (4294967295, 4294967295, RESERVED),
)  # fmt: skip


def _address_flags(address: IPAddress) -> list[str]:
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


def _network_of(value: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def _asn_number(value: str) -> int | None:
    """``AS64512``, ``as 64512``, ``64512`` or asdot ``AS1.10`` as a number."""
    text = value.strip().upper().removeprefix("AS").strip()
    high, dot, low = text.partition(".")
    if not high.isdigit() or (dot and not low.isdigit()):
        return None
    return int(high) * 65536 + int(low) if dot else int(high)


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
    return flags_with_reasons(kind, value, benign=benign, source_domain=source_domain)[0]


def benign_reason(kind: str, value: str, *, benign: BenignList) -> str | None:
    """Why ``flags_for`` calls this indicator ``benign``: ``secdigest list``,
    ``SECDIGEST_IOC_BENIGN`` or ``MISP warning list: <its name>``; None if it is not."""
    return flags_with_reasons(kind, value, benign=benign, source_domain=None)[1].get(BENIGN)


def flags_with_reasons(
    kind: str, value: str, *, benign: BenignList, source_domain: str | None
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The flags of one indicator and ``{flag: why}`` for those that say why (``benign``:
    the list that holds it), in one pass: the reason is the lookup's own answer."""
    flags: list[str] = []
    reason: str | None = None
    site = False
    if kind in _HASH_KINDS:
        reason = benign.hash_reason(value)
    elif kind in ("ipv4_cidr", "ipv6_cidr"):
        net = _network_of(value)
        if net is not None:
            first, last = int(net.network_address), int(net.broadcast_address)
            flags = [
                flag
                for version, low, high, flag in _SPECIAL_RANGES
                if version == net.version and low <= first and last <= high
            ][:1]
            reason = benign.network_reason(net)
    elif kind == "asn":
        number = _asn_number(value)
        if number is not None:
            flags = [flag for low, high, flag in _ASN_RANGES if low <= number <= high][:1]
    elif kind in _NAME_KINDS:
        host = _host_of(kind, value)
        try:
            address: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            address = None
        if address is not None:
            flags = _address_flags(address)
            # a URL on a benign host is still evidence (a path there is the attacker's)
            reason = benign.network_reason(address) if kind != "url" else None
        else:
            flags = _name_flags(host)
            reason = benign.name_reason(host) if kind == "domain" else None
            site = bool(source_domain) and registrable_domain(host) == source_domain
    if reason is not None:
        flags.append(BENIGN)
    if site:
        flags.append(SOURCE_SITE)
    return tuple(flags), ({BENIGN: reason} if reason is not None else {})


def _name_flags(host: str) -> list[str]:
    flags = [ONION] if host.endswith(".onion") else []
    if (
        host in _DOCUMENTATION_NAMES
        or host.rpartition(".")[2] in _DOCUMENTATION_TLDS
        or any(host.endswith("." + name) for name in _DOCUMENTATION_NAMES)
    ):
        flags.append(DOCUMENTATION)
    return flags


def source_domain_of(source_url: str | None) -> str | None:
    """The registrable domain of the page an indicator was found on."""
    if not source_url:
        return None
    host = (urlsplit(source_url).hostname or "").lower()
    return registrable_domain(host) if host else None
