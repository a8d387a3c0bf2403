"""Host artefacts, fuzzy hashes, TLS fingerprints, ASNs and CWE ids (private helper of _scan).

Each finder starts from a literal or from one map of the hex runs, so prose is skipped at C
speed. The rules (issue 19):

- registry_key: a hive (``HKLM``, ``HKEY_LOCAL_MACHINE``..., PowerShell ``HKLM:``) and a key.
- file_path: ``C:\\`` or ``C:/``, ``%ENV%\\``, UNC ``\\\\server\\share`` (its host is also a
  domain or IPv4), POSIX paths below well-known roots (``/tmp/``, ``~/Library/``...) but not
  after a host or word character (``evil.com/tmp/x``). Paths and keys need a component after
  the root; they stop at blanks, quotes, ``,;=|``, lone brackets, non-ASCII, without trailing
  punctuation. A blank is crossed when the next words (at most three, no new root or switch)
  end at a separator (``Windows NT\\``, ``Image File Execution Options\\``; POSIX: capitalised
  words) or one word ends with a file type (``Control Panel.lnk``); in quotes, backticks or
  ``[...]`` a path runs to the closer. A directory keeps its trailing separator. The first
  spelling of a Windows name is the value of all its spellings (case-insensitive).
- asn: ``ASN 15169`` always; ``AS13335``, ``AS 4134``, ``AS-4134`` unless doubtful (fewer
  than 3 digits as EDI's ``AS2``, IBM's ``AS400``, a year, after an all-caps word as in "SUCH
  AS 2024"), then only near BGP, autonomous system or ASN. Not the reserved 0, 23456, 65535,
  4294967295. Value ``AS<n>``.
- cwe: ``CWE-79`` in any case, a whole token; value ``CWE-<n>``.
- ssdeep: ``blocksize:hash1:hash2``, blocksize 3 * 2^n, base64 parts of 8-64 and 2-64 chars.
- tlsh: ``T1`` + 70 hex, or 70 hex under a TLSH label; value ``T1`` + upper-case hex.
- imphash, ja3, ja3s: 32 hex under their label only (before it on its line, or a list
  continued after it, or the column header of a Markdown or AsciiDoc table); lower case.
- ja4: the JA4 client shape ``t13d1516h2_8daaf6152771_b186095e22b6`` (not JA4S/H/X).
- jarm: 62 hex, labelled or not (no other common value is that long); lower case.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from operator import attrgetter

from app.services.iocs._hit import Hit
from app.services.iocs._rules import has_public_suffix, ipv4_ok, valid_hostname

_START = attrgetter("start")
_PATH_KINDS = frozenset(("file_path", "registry_key"))
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

# A Windows component: ASCII but blanks, quotes, separators and what Windows forbids, plus
# {GUID}s and brace lists, <user> placeholders and short [redacted] parts. (No class with a
# range up to U+10FFFF: it costs milliseconds to compile, at each start of the command.)
_WCH = r"[!#$%&()*+\-.0-9@A-Z^_a-z~]"
_COMP = rf"(?:{_WCH}++|\{{[^{{}}\s\\/]{{1,80}}\}}|<\w[\w -]{{0,30}}>|\[[^\[\]\s\\/]{{1,20}}\])++"
_WORD = rf"(?![%\-]|HK[A-Z_]*\\){_COMP}"  # after a blank: no new root, no switch
_BS_BODY = rf"{_COMP}(?:(?: {_WORD}){{0,3}}\\{{1,2}}{_COMP})*+\\?"
_SLASH_BODY = rf"{_COMP}(?:(?: {_WORD}){{0,3}}/{_COMP})*+/?"  # C:/Users/...
_HIVE = "HK(?:EY_(?:LOCAL_MACHINE|CURRENT_USER|CLASSES_ROOT|USERS|CURRENT_CONFIG)|LM|CU|CR|CC|U):?"
_ENV = "%[A-Za-z_][A-Za-z0-9_()]{0,39}%"
_UNC_HOST = r"(?:\.|[A-Za-z0-9][A-Za-z0-9_.\-]*+(?:@[A-Za-z0-9]++)?)\\(?!\\)"
_ENCLOSED = rf"{_COMP}(?: (?=[A-Za-z0-9(]){_COMP}|\\{{1,2}}{_COMP}|/{_COMP})*+[\\/]?"
_CLOSER = {'"': '"', "'": "'", "`": "`", "[": "]", "\u201c": "\u201d", "\u300c": "\u300d"}
_LAST_WORD = (
    r" [!#$%&()*+\-0-9@A-Z^_a-z~]++\.(?i:exe|dll|lnk|bat|cmd|ps1|vbs|js|jse|hta|scr|sys|ini"
    r"|dat|tmp|txt|log|zip|rar|7z|docx?|xlsx?|pdf|msi|cpl|url)(?![A-Za-z0-9_.\\/])"
)
# a slash: below a root, or after a drive letter (C:/Users/...), in one pass over the slashes
_POSIX_ROOT_RE = re.compile(
    r"/(?:(?:tmp|var|etc|usr|bin|sbin|lib|lib64|opt|home|root|dev/shm|Library|Users|System"
    r"|private|Applications)/|(?<=[A-Za-z]:/)(?![/\s]))"
)
_PCH = r"[A-Za-z0-9._~+@%$*{}\-]"
_POSIX_BODY = rf"{_PCH}++(?:(?: [A-Z]{_PCH}*+){{0,2}}/{_PCH}++)*+/?"
# roots themselves, not paths below one (strings to compare, no file is opened)
_BARE_POSIX = frozenset(("/var/tmp", "/dev/shm", "/private/tmp", "/private/var"))  # noqa: S108
_POSIX_BEFORE = _ALNUM | frozenset("._-/:%@\\$~")
_TRAIL = ".,:;!?'\"*"
_KEY_TRAIL = _TRAIL + "\\/"

# Hex digits as "h", the rest as ".", one byte per character (non-ASCII too): a run of
# exactly n hex digits is then b".hhh…h." found by bytes.find at C speed, where a regex
# would be tried at every a-f of the prose and stop at every SHA-1 of a report.
_HEX_TABLE = bytes(104 if chr(i) in "0123456789abcdefABCDEF" else 46 for i in range(256))
RUN32 = b"h" * 32
_LOOKED_AT = frozenset((32, 62, 70, 71))  # labelled, jarm, labelled tlsh, T1 + tlsh
_HEX = r"[0-9A-Fa-f]{32,}+"
_HASH_KINDS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
# a label right before the value: "JA3: ", "ja3_hash=", "| JA3 | ", "JA3ハッシュ：", "Imphash "
_LABEL = (
    r"(?<![a-z0-9])(imphash(?:es)?|imp[ _-]?hash|import[ _-]?hash|インポートハッシュ|ja3s|ja3|tlsh)"
    r"(?:[ _-]?(?:hash|fingerprint|digest|md5)(?:es|s)?|ハッシュ値?|値)?"
    r"(?: ?\([^()\n]{0,20}\))?[\s:=：\"'`|*\-]*$"
)
_LABEL_KINDS = {"ja3": "ja3", "ja3s": "ja3s", "tlsh": "tlsh"}  # the other labels: imphash
_LIST_GAP = r"[ \t`'\"]*(?:[,;][ \t`'\"]*(?:(?:and|or) )?| (?:and|or) )[ \t`'\"]*"
_SEPARATOR_ROW = r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?"

_SSDEEP_RE = re.compile(r":[A-Za-z0-9+/]{8,64}+:[A-Za-z0-9+/]{2,64}+(?![A-Za-z0-9+/])")
_JA4_TAIL_RE = re.compile(r"_[0-9a-f]{12}_[0-9a-f]{12}(?![0-9A-Za-z_])")
_JA4_HEAD = r"[tqd][0-9a-z]{2}[di][0-9]{4}[0-9a-z]{2}"
_JA4_BEFORE = _ALNUM | {"_"}
# the separator is checked after (a full-width colon in a class costs 0.5 ms to compile)
_ASN_RE = re.compile(r"AS(N?)([^0-9A-Za-z]{0,3}?)([0-9]++)(?![A-Za-z]|[.,][0-9])")
_ASN_SEPARATORS = frozenset(("", " ", "-", ":", ": ", " :", " : ", "：", "#", "# "))
_ASN_CONTEXT = r"(?i:autonomous system|\bbgp\b|peering)|\bASN\b|\bAS (?:number|path)"
_ASN_RESERVED = frozenset((0, 23456, 65535, 4294967295))
_CWE_RE = re.compile(r"-(?<=[Cc][Ww][Ee]-)(?=[0-9])")  # a literal first, then look behind
_CWE = r"[Cc][Ww][Ee]-(?P<n>[0-9]{1,5})(?![0-9A-Za-z]|-[0-9]|\.[0-9])"
# The expressions above that are not compiled here are compiled on first use: most texts
# never need them, and `secdigest iocs --jsonl` pays for each compilation at each start.
_COMPILED: dict[str, re.Pattern[str]] = {}


def _rx(pattern: str) -> re.Pattern[str]:
    if pattern not in _COMPILED:
        _COMPILED[pattern] = re.compile(pattern)
    return _COMPILED[pattern]


def hex_map(r: str) -> bytes:
    """``r`` with hex digits as "h" and the rest as ".", between two "." (so hex_map(r)[i + 1]
    is r[i]): runs of hex digits are then found with bytes.find, at C speed."""
    return b"." + r.encode("ascii", "replace").translate(_HEX_TABLE) + b"."


def kind_hits(
    r: str, urls: list[Hit], hexmap: bytes | None = None, hashes: list[Hit] | None = None
) -> list[Hit]:
    """asn, file_path, registry_key, ssdeep, tlsh, imphash, ja3, ja3s, ja4, jarm, cwe in
    ``r`` (refanged), none inside ``urls``; with them the hashes and UNC hosts inside paths.

    ``hexmap``: ``hex_map(r)`` if the caller has it. ``hashes``: a list that gets the plain
    md5, sha1, sha256 and sha512 of ``r`` (whole runs of 32, 40, 64, 128 hex digits, URLs
    or not), from the same walk over the hex runs.
    """
    if hexmap is None:
        hexmap = hex_map(r)
    found = _windows(r) + _posix(r) + _hexes(r, hexmap, hashes)
    found += _asns(r) + _cwes(r) + _ssdeeps(r) + _ja4s(r)
    if not found:
        return found
    found.sort(key=_START)
    u_starts = [u.start for u in urls]
    out: list[Hit] = []
    end = -1
    first: dict[tuple[str, str], str] = {}
    for hit in found:
        i = bisect_right(u_starts, hit.start) - 1  # in a URL: the one before or the next
        in_url = (i >= 0 and urls[i].end > hit.start) or (
            i + 1 < len(urls) and urls[i + 1].start < hit.end
        )
        if hit.start < end or in_url:
            continue
        end = hit.end
        out.append(hit)
        if hit.kind not in _PATH_KINDS:
            continue
        if hit.value[0] not in "/~":
            hit.value = first.setdefault((hit.kind, hit.value.lower()), hit.value)
        for inner in _inner_hits(r, hexmap, hit):
            out.append(inner)
            # scan drops a name that overlaps the hit starting last before it or the next one:
            # the rest of the path, value-less (no IOC, as a URL with value ""), covers it
            if inner.end < end:
                out.append(Hit(hit.kind, "", inner.end, end))
    return out


def _windows(r: str) -> list[Hit]:
    """Keys and paths, from one walk over the backslashes (``C:/`` paths: see _posix)."""
    out: list[Hit] = []
    pos = r.find("\\")
    while pos != -1:
        end = _at_backslash(r, pos, out)
        pos = r.find("\\", max(end, pos + 1))
    return out


def _drive_letter(r: str, s: int) -> bool:
    return s >= 0 and r[s] in _ALNUM and not r[s].isdigit() and not (s and r[s - 1] in _ALNUM)


def _at_backslash(r: str, pos: int, out: list[Hit]) -> int:
    """Adds the path or key whose root ends with the backslash at ``pos``; returns its end
    (-1 for none)."""
    prev = r[pos - 1] if pos else ""
    if prev == ":" and _drive_letter(r, pos - 2):
        kind, s = "file_path", pos - 2
    elif prev == "%":
        kind, s = "file_path", r.rfind("%", max(0, pos - 42), pos - 1)
        if s == -1 or not _rx(_ENV).fullmatch(r, s, pos):
            return -1
    elif r[pos + 1 : pos + 2] == "\\" and not (prev and (prev in _ALNUM or prev in "\\:%")):
        host = _rx(_UNC_HOST).match(r, pos + 2)
        if host is None or (host.end() - pos == 4 and r[pos + 2] != "."):  # \\w\s: a regex
            return -1
        m = _rx(_BS_BODY).match(r, host.end())
        if m:
            _add_path(out, r, "file_path", pos, m.end(), host.end())
        return m.end() if m else -1
    else:
        kind, s = "registry_key", r.rfind("HK", max(0, pos - 20), pos)
        if s == -1 or not _rx(_HIVE).fullmatch(r, s, pos):
            return -1
    body = pos + 2 if r[pos + 1 : pos + 2] == "\\" else pos + 1
    m = _rx(_BS_BODY).match(r, body) if not (s and r[s - 1] in _ALNUM) else None
    if m is None:
        return -1
    _add_path(out, r, kind, s, m.end(), body)
    return m.end()


def _posix(r: str) -> list[Hit]:
    out: list[Hit] = []
    for m in _POSIX_ROOT_RE.finditer(r):
        s = m.start()
        if r[s - 1 : s] == ":":  # C:/Users/...
            b = _rx(_SLASH_BODY).match(r, s + 1) if _drive_letter(r, s - 2) else None
            if b:
                _add_path(out, r, "file_path", s - 2, b.end(), s + 1)
            continue
        if s and r[s - 1] == "~" and not (s > 1 and r[s - 2] in _POSIX_BEFORE):
            s -= 1  # ~/Library/LaunchAgents/...
        elif s and r[s - 1] in _POSIX_BEFORE:
            continue
        body = _rx(_POSIX_BODY).match(r, m.end())
        if body:
            _add_path(out, r, "file_path", s, body.end(), m.end(), posix=True)
    return out


def _add_path(
    out: list[Hit], r: str, kind: str, start: int, end: int, body: int, *, posix: bool = False
) -> None:
    """Adds the path or key r[start:end] (its root ends at ``body``), extended or trimmed."""
    closer = _CLOSER.get(r[start - 1]) if start else None
    if closer is not None and r[end : end + 1] != closer:
        line_end = r.find("\n", end)
        close = r.find(closer, end, line_end if line_end != -1 else len(r))
        m = _rx(_ENCLOSED).match(r, body, close) if 0 < close - start <= 300 else None
        if m and m.end() == close:
            end = close
    elif not posix and r[end : end + 1] == " ":
        last = max(r.rfind("\\", start, end), r.rfind("/", start, end))
        m = _rx(_LAST_WORD).match(r, end) if "." not in r[last:end] else None
        if m:
            end = m.end()
    trail = _KEY_TRAIL if kind == "registry_key" else _TRAIL
    while end > body:
        c = r[end - 1]
        if (c in trail and not (c == "*" and r[end - 2] in "\\/")) or (  # C:\x\* stays
            c == ")" and r.count(")", start, end) > r.count("(", start, end)  # (in C:\x.exe)
        ):
            end -= 1
        else:
            break
    if end > body and not (posix and r[start:end].rstrip("/") in _BARE_POSIX):
        out.append(Hit(kind, r[start:end], start, end))


def _inner_hits(r: str, hexmap: bytes, path: Hit) -> list[Hit]:
    """Hashes named in a path (``%TEMP%\\<sha256>.exe``) and the server of a UNC path."""
    out: list[Hit] = []
    if hexmap.find(RUN32, path.start + 1, path.end + 1) != -1:  # hexmap[i + 1] is r[i]
        for m in _rx(_HEX).finditer(r, path.start, path.end):
            s, e = m.span()
            kind = _HASH_KINDS.get(e - s)
            if kind is not None and r[s - 1] not in _ALNUM and r[e : e + 1] not in _ALNUM:
                out.append(Hit(kind, m.group().lower(), s, e))
    if path.value.startswith("\\\\"):
        s = e = path.start + 2
        while r[e] not in "\\@":
            e += 1
        host = r[s:e].lower().rstrip(".")
        ip = host.rpartition(".")[2].isdigit() and ipv4_ok(host.split("."))
        if ip or ("." in host and valid_hostname(host) and has_public_suffix(host)):
            out.append(Hit("ipv4" if ip else "domain", host, s, s + len(host)))
    return out


def _hexes(r: str, hexmap: bytes, hashes: list[Hit] | None) -> list[Hit]:
    """jarm, tlsh and the labelled 32-hex kinds; the plain hashes into ``hashes``."""
    out: list[Hit] = []
    tables: dict[int, str] = {}
    last: Hit | None = None  # the labelled value a list may continue ("JA3: <a>, <b>")
    pos = hexmap.find(RUN32)
    while pos != -1:  # a run of 32 or more
        end = hexmap.find(b".", pos + 32)
        s, e, pos = pos - 1, end - 1, hexmap.find(RUN32, end)  # hexmap[i + 1] is r[i]
        n = e - s
        if n not in _LOOKED_AT and hashes is None:
            continue
        if r[e : e + 1] in _ALNUM:
            continue
        whole = not (s and r[s - 1] in _ALNUM)
        if hashes is not None and whole and n in _HASH_KINDS:
            hashes.append(Hit(_HASH_KINDS[n], r[s:e].lower(), s, e))
        if n not in _LOOKED_AT or not (whole or n == 71):
            continue
        if n == 71:  # T1 + 70 hex: the "1" is a hex digit
            if r[s - 1 : s + 1] in ("T1", "t1") and not (s > 1 and r[s - 2] in _ALNUM):
                out.append(Hit("tlsh", "T1" + r[s + 1 : e].upper(), s - 1, e))
            continue
        if n == 62:
            out.append(Hit("jarm", r[s:e].lower(), s, e))
            continue
        kind = _label(r, s, tables)
        if kind is None and last is not None and _rx(_LIST_GAP).fullmatch(r, last.end, s):
            kind = last.kind
        if kind == "tlsh" and n == 70:
            last = Hit("tlsh", "T1" + r[s:e].upper(), s, e)
        elif kind is not None and kind != "tlsh" and n == 32:
            last = Hit(kind, r[s:e].lower(), s, e)
        else:
            last = None
        if last is not None:
            out.append(last)
    return out


def _label(r: str, s: int, tables: dict[int, str]) -> str | None:
    """The kind a label names just before position ``s`` on its line, or its table column."""
    line_start = r.rfind("\n", 0, s) + 1
    before = r[max(line_start, s - 48) : s].lower()
    m = _rx(_LABEL).search(before)
    if m:
        return _LABEL_KINDS.get(m.group(1), "imphash")
    if "|" in before and r.startswith("|", line_start):
        header = _table_header(r, line_start, tables).split("|")
        column = r.count("|", line_start, s)
        m = _rx(_LABEL).fullmatch(header[column].strip().lower()) if column < len(header) else None
        return _LABEL_KINDS.get(m.group(1), "imphash") if m else None
    return None


def _table_header(r: str, line_start: int, tables: dict[int, str]) -> str:
    """The header row of the table whose row starts at ``line_start`` ("" if none found):
    Markdown's row above ``|---|``, AsciiDoc's row after ``|===``. ``tables`` remembers the
    header of each row walked over, so a long table is walked once."""
    header = tables.get(line_start)
    if header is not None:
        return header
    header = ""
    visited = [line_start]
    pos = line_start
    while pos and len(visited) < 500:
        prev = r.rfind("\n", 0, pos - 1) + 1
        line = r[prev : pos - 1].strip()
        if prev in tables:
            header = tables[prev]
        elif line.startswith("|==="):
            header = r[pos : r.find("\n", pos)]
        elif _rx(_SEPARATOR_ROW).fullmatch(line):
            header = r[r.rfind("\n", 0, prev - 1) + 1 : prev - 1] if prev else ""
        elif line.startswith("|"):
            visited.append(prev)
            pos = prev
            continue
        break
    for start in visited:
        tables[start] = header
    return header


def _ssdeeps(r: str) -> list[Hit]:
    out: list[Hit] = []
    for m in _SSDEEP_RE.finditer(r):
        s = e = m.start()
        while s > 0 and e - s < 10 and "0" <= r[s - 1] <= "9":
            s -= 1
        if s == e or r[s] == "0" or (s and (r[s - 1] in _ALNUM or r[s - 1] in "+/:")):
            continue
        size = int(r[s:e])
        if size % 3 == 0 and (size // 3) & (size // 3 - 1) == 0:  # 3 * 2^n
            out.append(Hit("ssdeep", r[s : m.end()], s, m.end()))
    return out


def _ja4s(r: str) -> list[Hit]:
    out: list[Hit] = []
    for m in _JA4_TAIL_RE.finditer(r):
        s = m.start() - 10
        if s >= 0 and not (s and r[s - 1] in _JA4_BEFORE) and _rx(_JA4_HEAD).match(r, s):
            out.append(Hit("ja4", r[s : m.end()], s, m.end()))
    return out


def _asns(r: str) -> list[Hit]:
    out: list[Hit] = []
    for m in _ASN_RE.finditer(r):
        s, (n, sep, digits) = m.start(), m.groups()
        number = int(digits[:11])
        if (s and r[s - 1] in _ALNUM) or sep not in _ASN_SEPARATORS or number in _ASN_RESERVED:
            continue
        if number <= 4294967295 and (n or not _doubtful_as(r, m)):
            out.append(Hit("asn", f"AS{number}", s, m.end()))
    return out


def _doubtful_as(r: str, m: re.Match[str]) -> bool:
    """AS2 (EDI), AS400 (IBM), a year, "AS" the word in all-caps text ("SUCH AS 2024"),
    unless a network word is near."""
    s, (_, sep, digits) = m.start(), m.groups()
    word = r[max(0, s - 20) : s].rstrip().rpartition(" ")[2]
    doubtful = (
        len(digits) < 3
        or digits == "400"
        or 1900 <= int(digits) <= 2099
        or (sep != "" and len(word) > 1 and word.isalpha() and word.isupper())
    )
    return doubtful and not _rx(_ASN_CONTEXT).search(r, max(0, s - 80), m.end() + 80)


def _cwes(r: str) -> list[Hit]:
    out: list[Hit] = []
    for w in _CWE_RE.finditer(r):
        s = w.start() - 3
        m = _rx(_CWE).match(r, s)
        if m and not (s and r[s - 1] in _ALNUM) and int(m.group("n")):
            out.append(Hit("cwe", f"CWE-{int(m.group('n'))}", s, m.end()))
    return out
