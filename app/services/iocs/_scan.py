"""Candidate scanning over refanged text (private helper of iocs.py).

One small regex per kind of indicator instead of one alternation: each starts with a
literal or a rare character class, so the regex engine skips prose at C speed. The hits
are then merged: a URL owns its host (no separate domain/ip for it, see iocs.py), a
domain label that happens to be 32 hex digits is not an md5, while hashes and CVE ids
inside URLs and file or detection names still count.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from operator import attrgetter

from app.services.iocs._refang import Refanged, refang_map
from app.services.iocs._rules import (
    after_version_word,
    has_public_suffix,
    ipv4_ok,
    ipv6_value,
    known_tld,
    looks_like_code_or_file,
    valid_hostname,
)

# ASCII only on purpose: Japanese text often runs straight on from a URL
# ("https://example.com/xにアクセス。"), and 」 。 ： must never become part of a value.
_PATH = r"A-Za-z0-9\-._~%!$&'()*+,;=:@/?#"
_AUTH = r"A-Za-z0-9\-._~%!$&'*+,;=:@"
_HYPHENS = "\\-_\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_LOCAL_CHARS = _ALNUM | frozenset("._%+-")

_URL_SEP_RE = re.compile("://")
_SCHEME_RE = re.compile(r"(?i:https?|ftps?|sftp|wss?)(?=://)")
_URL_BODY_RE = re.compile(rf"(?:[{_AUTH}]|\[[0-9A-Fa-f:.]++\])++(?:[/?#][{_PATH}]*+)?")
_CVE_RE = re.compile(
    rf"[cC][vV][eE][ {_HYPHENS}]?(?P<year>[12][0-9]{{3}})[ {_HYPHENS}](?P<seq>[0-9]{{4,7}})"
    r"(?![0-9])"
)
# whole hex runs only: a slice of a longer run, or 0x..., is not a hash
# (no lookbehind in the pattern: a leading character class lets the engine skip fast;
# the possessive run always starts at the first hex digit, the edges are checked after)
_HEX_RE = re.compile(r"[0-9A-Fa-f]{32,}+")
_V6_ANCHOR_RE = re.compile(r":[0-9A-Fa-f]{0,4}:")
_V6_RIGHT_RE = re.compile(r"[0-9A-Fa-f:.]*+")
_V6_LEFT = frozenset("0123456789abcdefABCDEF:")
# e-mail domains, domains and IPv4 share one pattern: their hosts have the same syntax.
# A schemeless ":port" or "/path" is consumed so that names inside it are not reported.
_DOTTED_RE = re.compile(
    r"(?<![A-Za-z0-9.\-_%+])[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++"
    rf"(?P<rest>(?::[0-9]{{1,5}}+(?![0-9A-Za-z]))?(?:/[{_PATH}]*+)?)"
)
_URL_TRAIL = ".,;:!?'\"*"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_CVE_SPELLINGS = ("CVE", "cve", "Cve")
# ATT&CK enterprise and mobile technique ids: T1001-T1799, sub-techniques .001-.099.
_CITE_OPEN = frozenset("([（［「『,、，:：|")
_CITE_CLOSE = frozenset(")]）］」』,、，|")
_ATTACK_CONTEXT = re.compile(r"ATT&CK|ATT＆CK|(?i:mitre|technique|tactic)|テクニック|戦術|攻撃手法")
_TECHNIQUE_RE = re.compile(r"T1[0-7][0-9]{2}(?:\.0[0-9]{2})?(?![0-9A-Za-z]|\.[0-9])")
_HASH_KINDS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}


class Hit:
    """One candidate occurrence; a slotted class because typing.NamedTuple costs an import."""

    __slots__ = ("end", "kind", "start", "value")

    def __init__(self, kind: str, value: str, start: int, end: int) -> None:
        self.kind = kind  # an IocType value
        self.value = value  # normalized; "" for a URL that defang_text must defang but is no IOC
        self.start = start  # span in the refanged text
        self.end = end


def ioc_values(text: str) -> list[tuple[str, str]]:
    """(type, value) of every indicator, deduplicated, in order: the batch command's view.

    The same scan as ``find_iocs`` without the display fields (offsets in the original
    text, raw and defanged forms) that a batch of type/value pairs never prints.
    """
    seen: dict[tuple[str, str], None] = {}
    for hit in scan(refang_map(text)):
        if hit.value:
            seen[(hit.kind, hit.value)] = None
    return list(seen)


def scan(rf: Refanged) -> list[Hit]:
    """Every indicator occurrence in ``rf.text``, sorted by position."""
    r = rf.text
    urls = _urls(r) if "://" in r else []
    u_starts = [h.start for h in urls]
    v6 = (
        [h for h in _ipv6(r) if not _inside(urls, u_starts, h.start, h.end)]
        if "::" in r or (r.count(":") > 2)
        else []
    )
    # A URL owns the names in it: blank the URLs (same length, offsets kept) before the
    # names are looked for, instead of testing every name against every URL.
    names = _dotted(rf, _blank(r, urls + v6) if urls or v6 else r)
    # a 32-hex label of a domain is part of the name, not an md5
    long_labels = [h for h in names if h.kind == "domain" and len(h.value) > 32]
    hashes = _hashes(r)
    if long_labels:
        starts = [h.start for h in long_labels]
        hashes = [h for h in hashes if not _inside(long_labels, starts, h.start, h.end)]
    hits = urls + v6 + names + hashes + _cves(r) + _techniques(r)
    hits.sort(key=_START)
    return hits


_START = attrgetter("start")


def _blank(r: str, spans: list[Hit]) -> str:
    """``r`` with the given spans replaced by spaces."""
    pieces: list[str] = []
    pos = 0
    for hit in sorted(spans, key=_START):
        if hit.start < pos:
            continue
        pieces.append(r[pos : hit.start])
        pieces.append(" " * (hit.end - hit.start))
        pos = hit.end
    pieces.append(r[pos:])
    return "".join(pieces)


def _inside(spans: list[Hit], starts: list[int], start: int, end: int) -> bool:
    """True if [start, end) overlaps one of ``spans`` (sorted, non-overlapping)."""
    i = bisect_right(starts, start) - 1
    if i >= 0 and spans[i].end > start:
        return True
    return i + 1 < len(spans) and spans[i + 1].start < end


def _urls(r: str) -> list[Hit]:
    """URLs with a scheme; trailing prose punctuation and unbalanced brackets trimmed."""
    out: list[Hit] = []
    last = 0
    for m in _URL_SEP_RE.finditer(r):
        sep = m.start()
        if sep < last:
            continue
        sm = _SCHEME_RE.search(r, max(0, sep - 5), sep + 3)
        if sm is None or sm.end() != sep or (sm.start() and r[sm.start() - 1] in _ALNUM):
            continue
        body = _URL_BODY_RE.match(r, sep + 3)
        if body is None:
            continue
        start, end = sm.start(), _trim_url_end(r, sm.start(), body.end())
        out.append(Hit("url", url_value(r[start:end]), start, end))
        last = end
    return out


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


def _trim_url_end(r: str, start: int, end: int) -> int:
    """Drop trailing sentence punctuation and unbalanced closing brackets."""
    while end > start:
        c = r[end - 1]
        unbalanced = c in _CLOSERS and r.count(c, start, end) > r.count(_CLOSERS[c], start, end)
        if c not in _URL_TRAIL and not unbalanced:
            break
        end -= 1
    return end


def _dotted(rf: Refanged, searched: str) -> list[Hit]:
    """E-mail addresses, domains and IPv4 addresses (looked for in ``searched``: rf.text
    with the spans already taken blanked out)."""
    r = rf.text
    out: list[Hit] = []
    for m in _DOTTED_RE.finditer(searched):
        hs, he = m.start(), m.start("rest")
        if r[he : he + 1] == "@":
            continue  # the local part of an e-mail address; its domain comes next
        # "secure-lоgin.online" with a Cyrillic о: the ASCII tail of a homograph is no name
        # of its own. Kana and kanji (below U+2E80 is not CJK) do not count: Japanese
        # prose runs straight into names (「攻撃者はevil.comに」).
        if hs and "\x7f" < r[hs - 1] < "\u2e80" and r[hs - 1].isalpha():
            continue
        host = r[hs:he]
        tld = host[host.rfind(".") + 1 :]
        if tld.isdigit():
            hit = _ipv4(rf, hs, he, host)
        elif not known_tld(tld.lower()):
            continue  # svchost.exe, Glupteba.AY: the cheapest and most common rejection
        elif hs and r[hs - 1] == "@":
            hit = _email(r, hs, he, host)
        else:
            hit = _domain(rf, hs, he, host)
        if hit is not None:
            out.append(hit)
    return out


def _email(r: str, hs: int, he: int, host: str) -> Hit | None:
    at = hs - 1
    start = at
    while start > 0 and r[start - 1] in _LOCAL_CHARS:
        start -= 1
    local = r[start:at]
    if not local or local[0] == "." or local[-1] == "." or ".." in local:
        return None
    lower = host.lower()
    if not (valid_hostname(lower) and has_public_suffix(lower)):
        return None
    return Hit("email", f"{local.lower()}@{lower}", start, he)


def _ipv4(rf: Refanged, hs: int, he: int, host: str) -> Hit | None:
    # whole dotted runs only, so OIDs (1.3.6.1.4.1) and 1.2.3.4.5 never yield an address
    if not ipv4_ok(host.split(".")):
        return None
    if not rf.touched(hs, he) and after_version_word(rf.text[max(0, hs - 24) : hs]):
        return None
    return Hit("ipv4", host, hs, he)


def _domain(rf: Refanged, hs: int, he: int, host: str) -> Hit | None:
    lower = host.lower()
    if not (valid_hostname(lower) and has_public_suffix(lower)):
        return None
    # Somebody defanged it on purpose: a domain even if it looks like a file or code.
    r = rf.text
    if not rf.touched(hs, he) and looks_like_code_or_file(
        host, r[max(0, hs - 2) : hs], r[he : he + 1]
    ):
        return None
    return Hit("domain", lower, hs, he)


def _ipv6(r: str) -> list[Hit]:
    """IPv6 addresses: anchored on two colons, grown to the whole hex/colon run."""
    out: list[Hit] = []
    last = 0
    for m in _V6_ANCHOR_RE.finditer(r):
        if m.start() < last:
            continue
        start = m.start()
        while start > 0 and start > m.start() - 40 and r[start - 1] in _V6_LEFT:
            start -= 1
        right = _V6_RIGHT_RE.match(r, m.start())
        end = right.end() if right else m.end()
        last = end
        while end > start and r[end - 1] == ".":
            end -= 1  # sentence end
        if (start and r[start - 1] in _ALNUM) or r[end : end + 1] in _ALNUM:
            continue
        value = ipv6_value(r[start:end])
        if value is not None:
            out.append(Hit("ipv6", value, start, end))
    return out


def _hashes(r: str) -> list[Hit]:
    out: list[Hit] = []
    for m in _HEX_RE.finditer(r):
        start, end = m.span()
        kind = _HASH_KINDS.get(end - start)
        if kind is None or (start and r[start - 1] in _ALNUM) or r[end : end + 1] in _ALNUM:
            continue
        out.append(Hit(kind, m.group().lower(), start, end))
    return out


def _cves(r: str) -> list[Hit]:
    # str.find per spelling is ~8x faster than a case-insensitive scan of the whole text.
    starts: list[int] = []
    for spelling in _CVE_SPELLINGS:
        pos = r.find(spelling)
        while pos != -1:
            starts.append(pos)
            pos = r.find(spelling, pos + 3)
    out: list[Hit] = []
    for start in sorted(starts):
        m = _CVE_RE.match(r, start)
        if m is None or (start and r[start - 1] in _ALNUM):
            continue
        out.append(Hit("cve", f"CVE-{m.group('year')}-{m.group('seq')}", start, m.end()))
    return out


def _techniques(r: str) -> list[Hit]:
    """ATT&CK technique ids. A bare ``T1200`` is also a product or part number ("the
    Kestrel T1200 gateway"), so it counts when it is written the way techniques are cited:
    with a sub-technique (``T1059.001``), in brackets or a list ("(Resource Hijacking,
    T1496)", 「（T1219）」), or in a text that speaks ATT&CK."""
    found: list[Hit] = []
    pos = r.find("T1")
    while pos != -1:
        m = _TECHNIQUE_RE.match(r, pos)
        # ids start at T1001; "T1000" is a model number, not a technique
        if m and (pos == 0 or r[pos - 1] not in _ALNUM) and int(m.group()[1:5]) > 1000:
            found.append(Hit("attack_technique", m.group(), pos, m.end()))
        pos = r.find("T1", pos + 2)
    if not found or _ATTACK_CONTEXT.search(r):
        return found
    return [h for h in found if "." in h.value or _cited(r, h.start, h.end)]


def _cited(r: str, start: int, end: int) -> bool:
    before = r[start - 2 : start].rstrip(" ")[-1:] if start else ""
    after = r[end : end + 1]
    return before in _CITE_OPEN or after in _CITE_CLOSE
