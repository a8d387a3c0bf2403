"""IOC extraction: refang, find typed indicators, defang for display.

How it works: the text is refanged once (``iocs_refang``: ``hxxp``, ``[.]``, ``(dot)``,
``[:]``, ``[at]`` ...) with a map back to the original offsets; a few small compiled
regexes then scan the refanged text (``iocs_scan``), and ``iocs_rules`` decides each
candidate (public suffix list, octet ranges, file-name and code heuristics). No I/O;
tldextract (its offline snapshot, never fetched) and ipaddress load on first use.

Counting convention (the one ``shared/bench/ioc`` truth and scorer use): a URL is one
``url`` indicator; its host is *not* also reported as a ``domain``/``ipv4``, and an
e-mail's domain is not reported as a ``domain``, unless the same name also appears on
its own in the text. The truth lists URL hosts and e-mail domains separately only where
the report names them on their own, and the scorer treats derived hosts as optional. A
URL written without a scheme (``evil.com/gate.php``, ``evil.com:8080``) is reported as
its host, which is how the truth scores MISP urls without a scheme. Hashes and CVE ids
inside URLs or file names (``/dl/<md5>.exe``, ``Exploit.CVE-2017-11882.H``) are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.services.iocs._refang import refang_map
from app.services.iocs._scan import scan, split_authority, split_port
from app.services.iocs.flags import BenignList, flags_with_reasons, source_domain_of


class IocType(StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"
    CVE = "cve"
    ATTACK_TECHNIQUE = "attack_technique"
    # issue 19: networks, wallets, host artefacts, fuzzy hashes and TLS fingerprints, weaknesses
    IPV4_CIDR = "ipv4_cidr"
    IPV6_CIDR = "ipv6_cidr"
    ASN = "asn"
    BITCOIN = "bitcoin"
    ETHEREUM = "ethereum"
    MONERO = "monero"
    FILE_PATH = "file_path"
    REGISTRY_KEY = "registry_key"
    SSDEEP = "ssdeep"
    TLSH = "tlsh"
    IMPHASH = "imphash"
    JA3 = "ja3"
    JA3S = "ja3s"
    JA4 = "ja4"
    JARM = "jarm"
    CWE = "cwe"


@dataclass(frozen=True, slots=True)
class Ioc:
    type: IocType
    value: str  # refanged and normalized
    defanged: str  # display form for Markdown
    raw: str  # first occurrence, as written in the text
    was_defanged: bool  # the source wrote it defanged
    start: int  # offset of the first occurrence in the text
    end: int
    # benign, source-site, documentation, private, loopback, link-local, reserved
    flags: tuple[str, ...] = ()
    # {flag: why} for the flags that say why: `benign` names its list (a MISP warning list...).
    flag_reasons: dict[str, str] = field(default_factory=dict, compare=False)


# What a click, a paste into a browser or a resolver could reach: defanged in Markdown.
NETWORK_TYPES = frozenset(
    {
        IocType.IPV4,
        IocType.IPV6,
        IocType.IPV4_CIDR,
        IocType.IPV6_CIDR,
        IocType.DOMAIN,
        IocType.URL,
        IocType.EMAIL,
    }
)
_NETWORK_KINDS = frozenset(t.value for t in NETWORK_TYPES)
_TYPES = {t.value: t for t in IocType}
_SCHEME_DEFANG = {"http": "hxxp", "https": "hxxps", "ftp": "fxp", "ftps": "fxps"}


def refang(text: str) -> str:
    """Undo common defanging (hxxp, [.], (dot), [:], [at] ...) throughout ``text``."""
    return refang_map(text).text


def defang(value: str, type_: IocType) -> str:
    """Display form of an indicator: ``hxxps://evil[.]com/x``, ``1.2.3[.]4``; others as is."""
    if type_ not in NETWORK_TYPES:
        return value
    return _defang_raw(refang(value), type_)


def find_iocs(
    text: str, *, source_url: str | None = None, benign: BenignList | None = None
) -> list[Ioc]:
    """Typed indicators in ``text``, deduplicated by (type, value), in order of appearance.

    ``source_url`` (the page the text comes from) marks the site's own names
    ``source-site``; ``benign`` replaces the built-in list of well-known harmless values.
    """
    rf = refang_map(text)
    benign_list = benign if benign is not None else _default_benign()
    source_domain = source_domain_of(source_url)
    seen: dict[tuple[str, str], Ioc] = {}
    for hit in scan(rf):
        if not hit.value or (hit.kind, hit.value) in seen:
            continue
        type_ = _TYPES[hit.kind]
        start, end = rf.orig_start(hit.start), rf.orig_end(hit.end)
        raw = text[start:end]
        flags, reasons = flags_with_reasons(
            hit.kind, hit.value, benign=benign_list, source_domain=source_domain
        )
        seen[(hit.kind, hit.value)] = Ioc(
            type=type_,
            value=hit.value,
            defanged=_defang_raw(hit.value, type_) if type_ in NETWORK_TYPES else hit.value,
            raw=raw,
            was_defanged=raw != rf.text[hit.start : hit.end],
            start=start,
            end=end,
            flags=flags,
            flag_reasons=reasons,
        )
    return list(seen.values())


_benign_default: BenignList | None = None


def _default_benign() -> BenignList:
    global _benign_default  # noqa: PLW0603 - built once, read-only afterwards
    if _benign_default is None:
        _benign_default = BenignList.with_defaults()
    return _benign_default


def defang_text(text: str) -> str:
    """Replace every fanged network indicator in ``text`` by its defanged form."""
    rf = refang_map(text)
    pieces: list[str] = []
    pos = 0
    for hit in scan(rf):
        # Every URL with a scheme is defanged, even one whose host is no public name
        # (hit.value == ""): the point is that the rendered report has no live links.
        if hit.kind not in _NETWORK_KINDS or (not hit.value and hit.kind != "url"):
            continue
        start, end = rf.orig_start(hit.start), rf.orig_end(hit.end)
        raw = text[start:end]
        if start < pos or raw != rf.text[hit.start : hit.end]:
            continue  # written defanged: left exactly as the author wrote it
        pieces.append(text[pos:start])
        pieces.append(_defang_raw(raw, _TYPES[hit.kind]))
        pos = end
    if not pieces:
        return text
    pieces.append(text[pos:])
    return "".join(pieces)


def _defang_host(host: str) -> str:
    """Bracket the last dot of a host name or IPv4 address (IPv6 literals stay)."""
    if host.startswith("["):
        return host
    i = host.rfind(".")
    return host if i == -1 else f"{host[:i]}[.]{host[i + 1 :]}"


def _defang_raw(raw: str, type_: IocType) -> str:
    """Defang one refanged indicator as written (case kept) for display."""
    if type_ is IocType.URL:
        scheme, sep, rest = raw.partition("://")
        if not sep:
            return raw
        new_scheme = _SCHEME_DEFANG.get(scheme.lower(), scheme)
        if scheme.isupper():
            new_scheme = new_scheme.upper()
        authority, tail = split_authority(rest)
        userinfo, at, hostport = authority.rpartition("@")
        host, port = split_port(hostport)
        if port is None:
            host, port = hostport, ""
        return f"{new_scheme}://{userinfo}{at}{_defang_host(host)}{port}{tail}"
    if type_ is IocType.EMAIL:
        local, at, domain = raw.rpartition("@")
        return f"{local}{at}{_defang_host(domain)}"
    if type_ in (IocType.IPV6, IocType.IPV6_CIDR):
        return raw.replace(":", "[:]")
    if type_ is IocType.IPV4_CIDR:
        address, slash, prefix = raw.partition("/")
        return f"{_defang_host(address)}{slash}{prefix}"
    if type_ in (IocType.DOMAIN, IocType.IPV4):
        return _defang_host(raw)
    return raw
