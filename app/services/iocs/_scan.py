"""Candidate scanning over refanged text (private helper of iocs.py).

One small regex per kind of indicator instead of one alternation: each starts with a
literal or a rare character class, so the regex engine skips prose at C speed. The hits
are then merged: a URL owns its host (no separate domain/ip for it, see iocs.py), a
domain label that happens to be 32 hex digits is not an md5, while hashes and CVE ids
inside URLs and file or detection names still count.

Issue 19 rules: a URL that follows a quote ends at the matching quote; an address with a
``/prefix`` is a network (``ipv4_cidr``/``ipv6_cidr``) when the prefix makes one, else the
address; separators before an e-mail (``-----foo@bar.com``) are not its local part;
underscores are read as in ``_underscore_edges`` and ``underscores_ok``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from operator import attrgetter

from app.services.iocs._hit import Hit
from app.services.iocs._kinds import hex_map, kind_hits
from app.services.iocs._refang import Refanged, open_escapes, refang_map
from app.services.iocs._rules import (
    after_version_word,
    has_public_suffix,
    ipv4_ok,
    ipv6_value,
    known_tld,
    looks_like_code_or_file,
    network_value,
    public_tlds,
    split_authority,
    split_port,
    underscores_ok,
    url_value,
    valid_hostname,
)
from app.services.iocs._wallets import wallet_hits

# split_* and url_value live with the rules; finder.py reads the authority of a URL here.
__all__ = ["ioc_values", "scan", "split_authority", "split_port", "url_value"]

# ASCII only on purpose: Japanese text often runs straight on from a URL
# ("https://example.com/xにアクセス。"), and 」 。 ： must never become part of a value.
_PATH = r"A-Za-z0-9\-._~%!$&'()*+,;=:@/?#"
_AUTH = r"A-Za-z0-9\-._~%!$&'*+,;=:@"
_HYPHENS = "\\-_\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_LOCAL_CHARS = _ALNUM | frozenset("._%+-")
# A separator line ("-----foo@bar.com") or list marker runs into a local part.
_LOCAL_EDGE = "-._+"
_QUOTES = "'\"`"
_NOT_AFTER_PREFIX = frozenset("/_-")

_URL_SEP_RE = re.compile("://")
_SCHEME_RE = re.compile(r"(?i:https?|ftps?|sftp|wss?)(?=://)")
_URL_BODY_RE = re.compile(rf"(?:[{_AUTH}]|\[[0-9A-Fa-f:.]++\])++(?:[/?#][{_PATH}]*+)?")
_CVE_RE = re.compile(
    rf"[cC][vV][eE][ {_HYPHENS}]?(?P<year>[12][0-9]{{3}})[ {_HYPHENS}](?P<seq>[0-9]{{4,7}})"
    r"(?![0-9])"
)
_V6_ANCHOR_RE = re.compile(r":[0-9A-Fa-f]{0,4}:")
_V6_RIGHT_RE = re.compile(r"[0-9A-Fa-f:.]*+")
_V6_LEFT = frozenset("0123456789abcdefABCDEF:")
# e-mail domains, domains and IPv4 share one pattern: their hosts have the same syntax.
# A schemeless ":port" or "/path" is consumed so that names inside it are not reported.
# Underscores are taken into the run (sub_domain.evil.net) and decided afterwards.
_DOTTED_RE = re.compile(
    r"(?<![A-Za-z0-9.\-_%+])[A-Za-z0-9\-_]++(?:\.[A-Za-z0-9\-_]++)++"
    rf"(?P<rest>(?::[0-9]{{1,5}}+(?![0-9A-Za-z]))?(?:/[{_PATH}]*+)?)"
)
# Name characters of _DOTTED_RE as "a", the dot as ".", anything else as " ".
_RUN_TABLE = bytes(
    97 if chr(i) in _ALNUM or chr(i) in "-_" else 46 if chr(i) == "." else 32 for i in range(256)
)
# "http__evil.net": a URL whose "://" was mangled into underscores (file-name-safe forms)
_MANGLED_RE = re.compile(r"(?i:h[tx]{2}ps?|ftps?)_{2,3}(?=[A-Za-z0-9])")
_URL_TRAIL = ".,;:!?'\"*"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_CVE_SPELLINGS = ("CVE", "cve", "Cve")
# ATT&CK enterprise and mobile technique ids: T1001-T1799, sub-techniques .001-.099.
_CITE_OPEN = frozenset("([（［「『,、，:：|")
_CITE_CLOSE = frozenset(")]）］」』,、，|")
_ATTACK_CONTEXT = re.compile(r"ATT&CK|ATT＆CK|(?i:mitre|technique|tactic)|テクニック|戦術|攻撃手法")
_TECHNIQUE_RE = re.compile(r"T1[0-7][0-9]{2}(?:\.0[0-9]{2})?(?![0-9A-Za-z]|\.[0-9])")


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
    v6 = _outside(_ipv6(r), urls) if "::" in r or (r.count(":") > 2) else []
    # A URL owns the names in it: blank the URLs (same length, offsets kept) before the
    # names are looked for, instead of testing every name against every URL.
    names = _dotted(rf, _blank(r, urls + v6) if urls or v6 else r)
    # Typed values that a plain hash or name scan would misread: a labelled JA3 is no md5,
    # a wallet or a registry path is no domain. Each finder skips the spans of `urls`.
    # md5, sha1, sha256 and sha512 come from the same walk over the runs of hex digits.
    hashes: list[Hit] = []
    typed = kind_hits(r, urls, hex_map(r), hashes) + wallet_hits(r, urls)
    # a 32-hex label of a domain is part of the name, not an md5
    long_labels = [h for h in names if h.kind == "domain" and len(h.value) > 32]
    if long_labels:
        hashes = _outside(hashes, long_labels)
    if typed:
        typed.sort(key=_START)
        hashes = _outside(hashes, typed)
        names = _outside(names, typed)
    hits = urls + v6 + names + hashes + typed + _cves(r) + _techniques(r)
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


def _outside(hits: list[Hit], spans: list[Hit]) -> list[Hit]:
    """The hits that overlap neither the one of ``spans`` (sorted by start, not overlapping)
    that starts last at or before them nor the next one."""
    if not hits or not spans:
        return hits
    starts = [h.start for h in spans]
    n = len(spans)
    out: list[Hit] = []
    for hit in hits:
        i = bisect_right(starts, hit.start) - 1
        if (i >= 0 and spans[i].end > hit.start) or (i + 1 < n and spans[i + 1].start < hit.end):
            continue
        out.append(hit)
    return out


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
        start, end = sm.start(), body.end()
        if "'" in r[sep:end]:
            end = _quote_end(r, start, end)
        end = _trim_url_end(r, start, end)
        out.append(Hit("url", url_value(r[start:end]), start, end))
        last = end
    return out


def _quote_end(r: str, start: int, end: int) -> int:
    """Where a URL that contains a quote ends: at the quote that closes the one before it
    (``DownloadString('https://x/a.ps1');g``), or at a quote that a bracket or a statement
    end follows (``fetch(https://x/a');``). Other quotes are part of the path."""
    if start and r[start - 1] in _QUOTES:
        close = r.find(r[start - 1], start, end)
        return end if close == -1 else close
    pos = r.find("'", start, end)
    while pos != -1:
        if r[pos + 1 : pos + 2] in (")", "]", "}", ";", ",", "+"):
            return pos
        pos = r.find("'", pos + 1, end)
    return end


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
    if "%" in searched:
        searched = open_escapes(searched)
    # A name starts a run of name characters and dots with a dot followed by a name
    # character in it: such dots are found in a map of the text (bytes.find, at C speed),
    # the regex is tried at the start of their run only. The same matches as a finditer
    # over the text, which would try the regex at every word of the prose.
    runs = searched.encode("ascii", "replace").translate(_RUN_TABLE)
    tlds = public_tlds()
    match = _DOTTED_RE.match
    last = 0
    pos = runs.find(b".a")
    while pos != -1:
        hs = runs.rfind(b" ", 0, pos) + 1
        m = match(searched, hs) if hs >= last else None
        if m is None:  # no name in this run (or it began inside the last match)
            pos = runs.find(b" ", pos)
            pos = runs.find(b".a", pos) if pos != -1 else -1
            continue
        last = m.end()
        pos = runs.find(b".a", last)
        start = hs
        end = he = m.start("rest")
        host = r[hs:he]
        if "_" in host:
            hs, he = _underscore_edges(r, hs, he)
            host = r[hs:he]
        tld = host[host.rfind(".") + 1 :]
        digits = tld.isdigit()
        if not digits:
            tld = tld.lower()
            if tld not in tlds and not (tld.startswith("xn--") and known_tld(tld)):
                continue  # svchost.exe, Glupteba.AY: the cheapest and most common rejection
        if r[end : end + 1] == "@":
            continue  # the local part of an e-mail address; its domain comes next
        # "secure-lоgin.online" with a Cyrillic о: the ASCII tail of a homograph is no name
        # of its own. Kana and kanji (below U+2E80 is not CJK) do not count: Japanese
        # prose runs straight into names (「攻撃者はevil.comに」).
        if start and "\x7f" < r[start - 1] < "\u2e80" and r[start - 1].isalpha():
            continue
        if digits:
            hit = _ipv4(rf, hs, he, host)
        elif hs and r[hs - 1] == "@":
            hit = _email(r, hs, he, host)
        else:
            hit = _domain(rf, hs, he, host)
        if hit is not None:
            out.append(hit)
    return out


def _underscore_edges(r: str, hs: int, he: int) -> tuple[int, int]:
    """The name inside a run with underscores at its edges.

    ``http__evil.net``: a scheme whose "://" was mangled into underscores; the name is
    what follows it (reported as a domain: the rest of the URL is a guess). A trailing
    ``_`` or a leading one before the registrable label is Markdown emphasis
    (``_evil.com_``); a leading one before a subdomain label is a service name
    (``_dmarc.example.com``) and stays.
    """
    m = _MANGLED_RE.match(r, hs)
    if m and "." in r[m.end() : he]:
        hs = m.end()
    while he > hs and r[he - 1] == "_":
        he -= 1
    if r[hs] == "_" and not underscores_ok(r[hs:he].lower()):
        bare = hs
        while bare < he and r[bare] == "_":
            bare += 1
        if underscores_ok(r[bare:he].lower()):
            hs = bare
    return hs, he


def _email(r: str, hs: int, he: int, host: str) -> Hit | None:
    at = hs - 1
    start = at
    while start > 0 and r[start - 1] in _LOCAL_CHARS:
        start -= 1
    while start < at and r[start] in _LOCAL_EDGE:
        start += 1  # "-----foo@bar.com", "...foo@bar.com": separators, not the address
    local = r[start:at]
    if not local or local[-1] == "." or ".." in local:
        return None
    lower = host.lower()
    if not (valid_hostname(lower) and has_public_suffix(lower) and underscores_ok(lower)):
        return None
    return Hit("email", f"{local.lower()}@{lower}", start, he)


def _ipv4(rf: Refanged, hs: int, he: int, host: str) -> Hit | None:
    # whole dotted runs only, so OIDs (1.3.6.1.4.1) and 1.2.3.4.5 never yield an address
    if not ipv4_ok(host.split(".")):
        return None
    if not rf.touched(hs, he) and after_version_word(rf.text[max(0, hs - 24) : hs]):
        return None
    if rf.text[he : he + 1] == "/":
        return _network(rf.text, Hit("ipv4", host, hs, he), 4)
    return Hit("ipv4", host, hs, he)


def _network(r: str, hit: Hit, version: int) -> Hit:
    """An address followed by ``/prefix``: the network (``ipv4_cidr``) if the suffix is a
    whole prefix of a network, else the address as found (see ``network_value``)."""
    end = hit.end + 1
    while "0" <= r[end : end + 1] <= "9" and end - hit.end <= 4:
        end += 1
    after, then = r[end : end + 1], r[end + 1 : end + 2]
    if after in _ALNUM or after in _NOT_AFTER_PREFIX or (after in ".:" and then in _ALNUM):
        return hit  # 1.2.3.0/24/x, 1.2.3.0/24.5: a path or a number, not a prefix
    net = network_value(hit.value, r[hit.end + 1 : end], version)
    return hit if net is None else Hit(f"{hit.kind}_cidr", net, hit.start, end)


def _domain(rf: Refanged, hs: int, he: int, host: str) -> Hit | None:
    lower = host.lower()
    if not (valid_hostname(lower) and has_public_suffix(lower)):
        return None
    if "_" in lower and not underscores_ok(lower):
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
        if value is None:
            continue
        hit = Hit("ipv6", value, start, end)
        out.append(_network(r, hit, 6) if r[end : end + 1] == "/" else hit)
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
