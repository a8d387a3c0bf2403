"""Validation rules for IOC candidates (private helper of iocs.py).

The regexes in iocs.py find candidates generously; these functions decide. Defanged
candidates are trusted more: somebody took the trouble to defang them, so the file-name
and code heuristics below only apply to text written fanged.
"""

from __future__ import annotations

import os
from importlib.machinery import PathFinder

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

_VERSION_WORDS = ("version", "ver", "ver.", "v", "build", "release", "firmware", "rev")


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
    if host.rpartition(".")[2] not in psl.tlds:
        return False
    # registrable = the name itself is not a suffix (co.uk is not, evil.co.uk is)
    return not psl.is_suffix(host)


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
    # System.IO, MSIL/Tiny.BG, ASP.NET: real domains in prose have a lowercase TLD.
    if not tld.islower():
        return True
    if tld in FILE_EXT_TLDS:
        return True
    if len(labels) == 2 and labels[0].lower() in FILE_STEMS:
        return True
    # Trojan.Win32.Agent.xyz, Microsoft.Exchange.Data.link: several capitalised labels
    # is a namespace or a detection name, while Google.com has one.
    if sum(1 for x in labels if not x.islower()) >= 2:
        return True
    if len(labels) == 2 and labels[0].lower() in CODE_OBJECTS:
        return True
    if after == "(":  # this.click()
        return True
    # Win32/Agent.xyz, C:\dir\name.ext: a path segment, not a host.
    return before.endswith("\\") or (
        len(before) >= 2 and before[-1] == "/" and before[-2].isalnum()
    )


def after_version_word(before: str) -> bool:
    """True if the text just before a dotted number names it a version (``version 1.2.3.4``)."""
    words = before.rstrip(" \t:").rsplit(None, 1)
    # "(version 1.2.3.4)", "[build 10.0.1.2]": the word may open a bracket or a quote
    return bool(words) and words[-1].lstrip("([{'\"").lower() in _VERSION_WORDS


def ipv4_ok(labels: list[str]) -> bool:
    """Four decimal octets, each 0..255, without leading zeros (those read as octal)."""
    if len(labels) != 4:
        return False
    for octet in labels:
        if not octet.isdigit() or len(octet) > 3 or (len(octet) > 1 and octet[0] == "0"):
            return False
        if int(octet) > 255:
            return False
    return True


def ipv6_value(candidate: str) -> str | None:
    """Compressed lowercase IPv6 address, or None for times, MACs, C++ scopes and noise."""
    if candidate.count(":") < 2:
        return None
    import ipaddress  # noqa: PLC0415 - only IPv6 candidates need it

    try:
        addr = ipaddress.IPv6Address(candidate)
    except ValueError:
        return None
    # "a::b" or "::1" are too short to be worth an indicator and too easy to hit by accident.
    hex_digits = sum(1 for c in candidate if c not in ":.")
    if hex_digits < 4 or addr.is_unspecified or addr.is_loopback:
        return None
    if addr.ipv4_mapped is not None:  # ::ffff:1.2.3.4 reads better than ::ffff:102:304
        return f"::ffff:{addr.ipv4_mapped}"
    return addr.compressed
