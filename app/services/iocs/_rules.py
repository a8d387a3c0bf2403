"""Validation rules for IOC candidates (private helper of iocs.py).

The regexes in iocs.py find candidates generously; these functions decide. Defanged
candidates are trusted more: somebody took the trouble to defang them, so the file-name
and code heuristics below only apply to text written fanged.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs `secdigest iocs` ~5 ms to import: for the checkers only
    from collections.abc import Callable
    from typing import Any

# Real TLDs that are far more often file extensions in security prose (readme.md,
# invoice.zip, clip.mov, setup.py, run.sh, lib.so, notes.one). A fanged name.ext with
# one of these is a file name; defanged or inside a URL it is still a domain.
FILE_EXT_TLDS = frozenset(
    {"zip", "mov", "md", "py", "sh", "rs", "ps", "so", "cab", "one", "mk", "pm"}
)

# ``this.name``, ``user.email``, ``item.link``: member access on common identifiers in
# code snippets, where the member happens to be a TLD.
CODE_OBJECTS = frozenset(
    {
        "this", "self", "window", "document", "obj", "object", "user", "req", "request",
        "res", "response", "config", "settings", "args", "options", "opts", "item", "file",
        "event", "e", "err", "error", "data", "result", "node", "el", "element", "app",
        "ctx", "context", "os", "sys", "math", "json", "console", "module", "exports",
        "process", "props", "state", "msg", "client", "server", "session", "page", "model",
    }
)  # fmt: skip

# Build-system and project files whose extension is also a country TLD (automake's
# Makefile.am, autoconf's configure.ac, build.pl): the stem says it is a file.
FILE_STEMS = frozenset(
    {"makefile", "configure", "build", "setup", "install", "readme", "license", "changelog",
     "cmakelists", "dockerfile", "requirements", "package", "gemfile", "rakefile", "manifest"}
)  # fmt: skip

_STEMS_AND_OBJECTS = FILE_STEMS | CODE_OBJECTS

# Names written all in capitals that are technologies or programs, not hosts: the .NET
# family (ASP.NET, ADO.NET, VB.NET, ML.NET) and the .com executables of DOS and System32.
CAPS_NAMES = frozenset(
    {"asp.net", "ado.net", "vb.net", "ml.net", "dot.net", "command.com", "win.com",
     "chcp.com", "format.com", "mode.com", "more.com", "tree.com", "edit.com"}
)  # fmt: skip
# A label that names a platform marks a detection name (TROJAN.WIN32.AGENT.XYZ).
PLATFORM_LABELS = frozenset({"win32", "win64", "w32", "w64", "msil", "x86", "x64"})

_OCTETS = frozenset(str(i) for i in range(256))  # "0".."255", as written without zeros
_VERSION_WORDS = ("version", "ver", "ver.", "v", "build", "release", "firmware", "rev")
_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")
_BASE32_DIGITS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghijklmnopqrstuv"
)


class _SuffixList:
    """ICANN public suffix rules as sets: a few set lookups per name instead of a parse.

    Internationalised rules (рф, 日本) are turned into punycode only when a name with an
    ``xn--`` label is looked up: the conversion is half of the load time, and the batch
    command pays the load at every start.
    """

    def __init__(self, rules: list[str]) -> None:
        self.exact: set[str] = set()
        self.wildcard: set[str] = set()
        self.exception: set[str] = set()
        self.tlds: set[str] = set()
        self._idn_rules = [r for r in rules if not r.isascii()]
        self._add([r for r in rules if r.isascii()])

    def _add(self, rules: list[str]) -> None:
        exact = {r for r in rules if r[0] not in "*!"}
        wildcard = {r[2:] for r in rules if r.startswith("*.")}
        self.exact |= exact
        self.wildcard |= wildcard
        self.exception |= {r[1:] for r in rules if r[0] == "!"}
        self.tlds |= {r.rpartition(".")[2] for r in exact | wildcard}

    def load_idn(self) -> None:
        """Add the internationalised rules, in punycode (once, on first need)."""
        if self._idn_rules:
            rules, self._idn_rules = self._idn_rules, []
            self._add([_ascii_rule(r) for r in rules])

    def is_suffix(self, name: str) -> bool:
        if name in self.exact:
            return True
        parent = name.partition(".")[2]
        return parent in self.wildcard and name not in self.exception


_suffixes: _SuffixList | None = None
_PRIVATE_MARK = "// ===BEGIN PRIVATE DOMAINS==="


def _ascii_rule(rule: str) -> str:
    """Punycode form of a suffix rule: text is matched in ASCII (xn--p1ai, not рф)."""
    if rule.isascii():
        return rule
    return ".".join(
        x if x.isascii() else "xn--" + x.encode("punycode").decode("ascii") for x in rule.split(".")
    )


def _load_rules() -> list[str]:
    """ICANN suffix rules from the snapshot that ships inside the tldextract package.

    Read directly: importing tldextract pulls in requests and costs ~200 ms per process,
    which is most of the budget of a one-shot ``secdigest iocs`` run. Nothing is fetched.
    """
    # PathFinder (already loaded by the interpreter) rather than importlib.util/pathlib,
    # which would cost the batch command a few milliseconds at every start.
    spec = PathFinder.find_spec("tldextract")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        snapshot = os.path.join(folder, ".tld_set_snapshot")
        if os.path.isfile(snapshot):
            with open(snapshot, encoding="utf-8") as handle:
                public = handle.read().partition(_PRIVATE_MARK)[0]
            return [
                line.split()[0]
                for line in public.splitlines()
                if line and not line.startswith("//") and not line.isspace()
            ]
    import tldextract  # noqa: PLC0415 - fallback if the snapshot file ever moves

    # suffix_list_urls=() and cache_dir=None: never fetch, never write a cache.
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    return list(extractor.tlds)


def _psl() -> _SuffixList:
    """The offline public suffix list, built on first use (~15 ms)."""
    global _suffixes  # noqa: PLW0603 - a lazily built, process-wide read-only table
    if _suffixes is None:
        # Private suffixes (blogspot.com) are left out, as tldextract does by default.
        _suffixes = _SuffixList(_load_rules())
    return _suffixes


def public_tlds() -> set[str]:
    """The top-level labels of the public suffix list, in ASCII; the punycode forms of the
    internationalised ones (``xn--p1ai``) only once ``known_tld`` has loaded them."""
    return _psl().tlds


def known_tld(tld: str) -> bool:
    """True if lowercase ``tld`` is a top-level label of the public suffix list."""
    psl = _psl()
    if tld.startswith("xn--"):
        psl.load_idn()
    return tld in psl.tlds


def has_public_suffix(host: str) -> bool:
    """True if lowercase ``host`` is a registrable name under a known public suffix."""
    psl = _psl()
    if "xn--" in host:
        psl.load_idn()
    tld = host.rpartition(".")[2]
    if tld not in psl.tlds:
        return False
    if tld == "onion":  # in the list (RFC 7686), but only real service names count
        return onion_ok(host)
    # registrable = the name itself is not a suffix (co.uk is not, evil.co.uk is)
    return not psl.is_suffix(host)


def onion_ok(host: str) -> bool:
    """True if lowercase ``host`` ends in a Tor onion service name (``[sub.]<id>.onion``).

    v3 ids (56 base32 characters) must carry version 3 and their checksum, so a mistyped
    or made-up id is no indicator. v2 ids (16 base32 characters, retired in 2021 but
    still named in older reports) have no checksum: the alphabet and length are all there
    is to check. Any other label (``example.onion``) is not an onion service.
    """
    service = host[:-6].rpartition(".")[2]
    if len(service) == 16:
        return _BASE32.issuperset(service)
    if len(service) != 56 or not _BASE32.issuperset(service):
        return False
    # base32 (RFC 4648) as a number: 56 characters are 280 bits, 35 bytes, no padding
    # (base64.b32decode would cost `secdigest iocs` the import of base64 and struct)
    raw = int(service.translate(_BASE32_DIGITS), 32).to_bytes(35, "big")
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:]
    digest = hash_digest("sha3_256", b".onion checksum" + pubkey + version)
    return version == b"\x03" and digest[:2] == checksum


# CPython's own hash modules by algorithm (a module that is not there costs a search).
_HASH_MODULES = {
    "sha256": ("_sha2",) if sys.version_info >= (3, 12) else ("_sha256",),
    "sha3_256": ("_sha3",),
}
_hash_constructors: dict[str, Callable[[bytes], Any]] = {}


def hash_digest(name: str, data: bytes) -> bytes:
    """``hashlib.new(name, data).digest()`` for "sha256" and "sha3_256" (onion and bitcoin
    checksums), from CPython's built-in module of the algorithm when there is one: hashlib
    loads OpenSSL's binding first, ~3 ms at each start of `secdigest iocs`."""
    new = _hash_constructors.get(name)
    if new is None:
        for module in _HASH_MODULES[name]:
            try:
                new = getattr(__import__(module), name)
                break
            except (ImportError, AttributeError):
                continue
        else:
            import hashlib  # noqa: PLC0415 - another interpreter: the public module

            new = getattr(hashlib, name)
        _hash_constructors[name] = new
    return bytes(new(data).digest())


def underscores_ok(host: str) -> bool:
    """True if the underscores of lowercase ``host`` are only in its subdomain labels.

    DNS carries names such as ``_dmarc.example.com`` or ``sub_domain.evil-site.net``, but
    a registrable label with an underscore (``my_var.name``, ``__init__.py``) is an
    identifier or a file name, and a public suffix never has one.
    """
    if "_" not in host:
        return True
    registrable = registrable_domain(host)
    return registrable is not None and "_" not in registrable


def registrable_domain(host: str) -> str | None:
    """The name a registrant owns (``news.example.co.uk`` -> ``example.co.uk``), or None."""
    psl = _psl()
    labels = host.lower().rstrip(".").split(".")
    for i in range(1, len(labels)):
        if psl.is_suffix(".".join(labels[i:])):
            return ".".join(labels[i - 1 :])
    return None


def valid_hostname(host: str) -> bool:
    """Syntax of a dotted DNS name: no empty labels, no edge hyphens, lengths."""
    if len(host) > 253 or not host or host[0] in ".-" or host[-1] in ".-":
        return False
    if ".." in host or ".-" in host or "-." in host:
        return False
    return len(host) <= 63 or all(len(x) <= 63 for x in host.split("."))


def looks_like_code_or_file(host: str, before: str, after: str) -> bool:
    """Heuristics that turn a fanged dotted name into a non-IOC (file, code, AV name)."""
    labels = host.split(".")
    tld = labels[-1]
    all_caps = False
    if not tld.islower():
        # System.IO, MSIL/Tiny.BG, ASP.NET: a capitalised TLD is code or a detection name,
        # unless the name is written in one case: evil.COM, EVIL-SITE.NET
        if not _upper_tld_domain(host, labels):
            return True
        all_caps = host.isupper()
        tld = tld.lower()
    # this.click(); C:\dir\name.ext: a call, a file in a path
    if tld in FILE_EXT_TLDS or after == "(" or before.endswith("\\"):
        return True
    # Makefile.am, this.name: a file of a build, a member of an object
    if len(labels) == 2 and labels[0].lower() in _STEMS_AND_OBJECTS:
        return True
    # Trojan.Win32.Agent.xyz, Microsoft.Exchange.Data.link: several capitalised labels
    # is a namespace or a detection name, while Google.com has one.
    if not all_caps and list(map(str.islower, labels)).count(False) >= 2:
        return True
    # Win32/Agent.xyz: a path segment, not a host.
    return len(before) >= 2 and before[-1] == "/" and before[-2].isalnum()


def _upper_tld_domain(host: str, labels: list[str]) -> bool:
    """Whether a name with an upper-case TLD is still written like a host name.

    Hosts are written in one case: ``evil.COM`` (a lowercase name, shouted TLD) or all in
    capitals (``EVIL-SITE.NET``, ``WWW.BAR.COM``). The TLD has at most three letters (a
    country code, COM, NET, XYZ): after a lowercase name, a longer capitalised word is a
    constant (``logging.INFO``, ``user.NAME``). Capitalised technology and program names
    (ASP.NET, COMMAND.COM), abbreviations (HO.RE.CA) and detection names
    (TROJAN.WIN32.AGENT.XYZ) stay code.
    """
    tld = labels[-1]
    if len(tld) > 3 or not tld.isupper():
        return False
    if not host.isupper():
        return host[: -len(tld)].islower()
    lower = host.lower()
    # HO.RE.CA, CO.KG: capitals with a dot after every letter or two are an abbreviation
    if lower in CAPS_NAMES or all(len(x) <= 2 for x in labels):
        return False
    return not any(x in PLATFORM_LABELS for x in lower.split("."))


def after_version_word(before: str) -> bool:
    """True if the text just before a dotted number names it a version (``version 1.2.3.4``)."""
    words = before.rstrip(" \t:").rsplit(None, 1)
    # "(version 1.2.3.4)", "[build 10.0.1.2]": the word may open a bracket or a quote
    return bool(words) and words[-1].lstrip("([{'\"").lower() in _VERSION_WORDS


def ipv4_ok(labels: list[str]) -> bool:
    """Four decimal octets, each 0..255, without leading zeros (those read as octal)."""
    if len(labels) != 4:
        return False
    if _OCTETS.issuperset(labels):
        return True  # the common case, in one set operation
    for octet in labels:  # the rest: wrong, or in other digits than ASCII
        if not octet.isdigit() or len(octet) > 3 or (len(octet) > 1 and octet[0] == "0"):
            return False
        if int(octet) > 255:
            return False
    return True


def ipv6_value(candidate: str) -> str | None:
    """Compressed lowercase IPv6 address, or None for times, MACs, C++ scopes and noise."""
    if candidate.count(":") < 2:
        return None
    # "a::b" is too short to be worth an indicator and too easy to hit by accident. The
    # loopback ::1 is kept, like 127.0.0.1: the flags mark it loopback.
    hex_digits = sum(1 for c in candidate if c not in ":.")
    if (hex_digits < 4 and "1" not in candidate) or _not_ipv6(candidate):
        return None  # most candidates (times, fingerprints) go without importing ipaddress
    import ipaddress  # noqa: PLC0415 - only IPv6 candidates need it

    try:
        addr = ipaddress.IPv6Address(candidate)
    except ValueError:
        return None
    if addr.is_unspecified or (hex_digits < 4 and not addr.is_loopback):
        return None
    if addr.ipv4_mapped is not None:  # ::ffff:1.2.3.4 reads better than ::ffff:102:304
        return f"::ffff:{addr.ipv4_mapped}"
    return addr.compressed


def _not_ipv6(candidate: str) -> bool:
    """True if ipaddress.IPv6Address would surely refuse ``candidate`` for its shape: more
    than 8 groups (``14:41:38``-like times have fewer, certificate fingerprints more) without
    ``::``, more than 9 parts, or a group of more than 4 characters. (False: maybe valid.)"""
    if "%" in candidate:
        return False  # a scope (fe80::1%eth0): left to ipaddress
    parts = candidate.split(":")
    v4_tail = "." in parts[-1]  # the last two groups written as an IPv4 address
    n = len(parts) + v4_tail
    if n > 9 or ("::" not in candidate and n != 8):
        return True
    return any(len(x) > 4 for x in (parts[:-1] if v4_tail else parts))


def network_value(address: str, prefix: str, version: int) -> str | None:
    """``address/prefix`` as a normalised network (``2001:db8::/32``), or None.

    None when the prefix is out of range or has leading zeros (``1.2.3.4/2024`` is no
    network), when it covers one address (/32, /128: that is the address itself), and
    when host bits are set (``10.0.0.1/8`` names a host together with its network: the
    indicator is the host address).
    """
    bits = 32 if version == 4 else 128
    if not prefix.isdigit() or (len(prefix) > 1 and prefix[0] == "0") or int(prefix) >= bits:
        return None
    octets = address.split(".") if version == 4 else []
    if ipv4_ok(octets):  # what ipaddress.ip_network says, without its import (~3 ms)
        number = int.from_bytes(bytes(int(x) for x in octets), "big")
        return None if number & ((1 << (32 - int(prefix))) - 1) else f"{address}/{prefix}"
    import ipaddress  # noqa: PLC0415 - only IPv6 network candidates need it

    try:
        net = ipaddress.ip_network(f"{address}/{prefix}")
    except ValueError:
        return None
    return net.with_prefixlen if net.version == version else None


def url_value(url: str) -> str:
    """Normalized URL (scheme and host lowercased), or "" if its host is not public."""
    scheme, _, rest = url.partition("://")
    authority, tail = split_authority(rest)
    userinfo, at, hostport = authority.rpartition("@")
    host, port = split_port(hostport)
    if port is None or not host:
        return ""
    lower = host.lower()
    if lower.startswith("["):
        ok = ipv6_value(lower[1:-1]) is not None
    elif lower.rpartition(".")[2].isdigit():
        ok = ipv4_ok(lower.split("."))
    else:
        ok = valid_hostname(lower) and has_public_suffix(lower)
    return f"{scheme.lower()}://{userinfo}{at}{lower}{port}{tail}" if ok else ""


def split_authority(rest: str) -> tuple[str, str]:
    """("user@host:port", "/path?query#frag") from the part of a URL after "://"."""
    cut = len(rest)
    for sep in "/?#":
        i = rest.find(sep, 0, cut)
        if i != -1:
            cut = i
    return rest[:cut], rest[cut:]


def split_port(hostport: str) -> tuple[str, str | None]:
    """(host, ":port" or "") from an authority without userinfo; port None if malformed."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close == -1:
            return "", None
        host, rest = hostport[: close + 1], hostport[close + 1 :]
    else:
        host, colon, port = hostport.partition(":")
        rest = colon + port
    if rest and not (rest[0] == ":" and rest[1:].isdigit() and len(rest) <= 6):
        return host, None
    return host, rest
