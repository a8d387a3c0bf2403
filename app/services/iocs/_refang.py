"""Refanging with an offset map back to the original text (private helper of iocs.py).

The finder refangs the whole text once and runs plain regexes over the result; the map
turns spans in the refanged text back into spans of the text as written, so that
``Ioc.start``/``Ioc.end``/``Ioc.raw`` and ``defang_text`` work on the caller's text.
``open_escapes`` does the same for URL-encoded links (``%3A%2F%2Fevil.com``): the escapes
that open a value are blanked (same length, offsets kept) for the name scan only.

The spaced dot (``evil . com``) is a defang wherever a name stands before it and a TLD
that is no English word after it (com, net, org, ru...), so ``user@example . com`` is one
e-mail: the rule needs no indicator around it, and prose (``ended . Then``) is left alone.
"""

from __future__ import annotations

import re
from bisect import bisect_right

# Separate small passes, each starting with a literal character, so that the regex
# engine's prefix search skips ordinary prose at C speed (a leading character class or
# alternation is tried at every position: five times slower on real reports). Vocabulary
# after iocextract's refang rules (``[.]``, ``(dot)``, ``[:]``, ``(/)``, backslash-dot,
# ``hxxp``/``fxp``), plus the ``{.}``, ``[@]``, ``[at]`` and ``[://]`` forms of CTI reports.
_INNER_RE = r"[ \t]*(?P<inner>\.|(?i:dot)|://|:|/|@|(?i:at))[ \t]*[\]\)\}]"
_BRACKET_RES = tuple((opener, re.compile(re.escape(opener) + _INNER_RE)) for opener in "[({")
# hxxp, hXXps, h**p, h[xx]p, h__p, fxp: found with bytes.find on the lowercased text (one
# literal per spelling), then checked where they stand in the text as written.
_SCHEME_NEEDLES = (b"hxx", b"h**p", b"h[xx]p", b"h__p", b"fxp", b"fxxp")
_SCHEME_RE = re.compile(
    r"(?:[hH](?:[xX]{2,3}|\*\*|\[[xX]{2}\]|__)|[fF][xX]{1,2})[pP](?=[sS]?(?:[\[\(]:|:))"
)
_BSDOT_RE = re.compile(r"\\\.")
# "evil . com": only before a few TLDs that are not English words, so that a stray
# " . " in prose is never glued into a domain.
_SPDOT_RE = re.compile(r" \. (?=(?:com|net|org|info|biz|ru|cn|io|xyz|top|onion)(?![A-Za-z0-9.\-]))")

_INNER = {".": ".", "dot": ".", "://": "://", ":": ":", "/": "/", "@": "@", "at": "@"}
_SPACES = " \t"
_SPDOT_BEFORE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# ASCII only: Japanese text runs straight into indicators ("サイトhxxp://...").
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class Refanged:
    """Refanged text plus the replaced runs, as parallel sorted lists of positions."""

    # A plain slotted class, not a dataclass: `secdigest iocs --jsonl` pays for every
    # import at each start, and dataclasses pulls in inspect (~10 ms).
    __slots__ = ("o_ends", "o_starts", "r_ends", "r_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.r_starts: list[int] = []  # run start in the refanged text
        self.r_ends: list[int] = []
        self.o_starts: list[int] = []  # the same run in the original text
        self.o_ends: list[int] = []

    def touched(self, start: int, end: int) -> bool:
        """True if refanged span [start, end) contains or overlaps a replacement."""
        if not self.r_starts:
            return False
        i = bisect_right(self.r_starts, end - 1) - 1
        return i >= 0 and self.r_ends[i] > start

    def orig_start(self, pos: int) -> int:
        """Original offset of refanged position ``pos`` used as a span start."""
        if not self.r_starts:
            return pos
        i = bisect_right(self.r_starts, pos) - 1
        if i < 0:
            return pos
        if pos < self.r_ends[i]:
            return self.o_starts[i]
        return self.o_ends[i] + (pos - self.r_ends[i])

    def orig_end(self, pos: int) -> int:
        """Original offset of refanged position ``pos`` used as an exclusive span end."""
        if not self.r_starts:
            return pos
        i = bisect_right(self.r_starts, pos - 1) - 1
        if i < 0:
            return pos
        if pos - 1 < self.r_ends[i]:
            return self.o_ends[i]
        return self.o_ends[i] + (pos - self.r_ends[i])


def _replacements(text: str) -> list[tuple[int, int, str, bool]]:
    """(start, end, refanged text, eats adjacent blanks) for every defang, by position."""
    found: list[tuple[int, int, str, bool]] = []
    for opener, pattern in _BRACKET_RES:
        if opener not in text:
            continue
        for m in pattern.finditer(text):
            value = _INNER[m.group("inner").lower()]
            # "user [at] evil [dot] com": the blanks are part of the obfuscation.
            found.append((m.start(), m.end(), value, value in ".@"))
    found.extend(_schemes(text))
    if "\\." in text:
        for m in _BSDOT_RE.finditer(text):
            start, end = m.span()
            if (
                start
                and text[start - 1] in _ALNUM
                and text[end : end + 1] in _ALNUM
                and not _in_backslash_path(text, start)
            ):
                found.append((start, end, ".", False))
    if "\uff0e" in text:
        # "example．com": a full-width dot between ASCII labels is a Japanese way to defang
        # (between Japanese characters it is punctuation and stays).
        pos = text.find("\uff0e")
        while pos != -1:
            if pos and text[pos - 1] in _ALNUM and text[pos + 1 : pos + 2] in _ALNUM:
                found.append((pos, pos + 1, ".", False))
            pos = text.find("\uff0e", pos + 1)
    if " . " in text:
        for m in _SPDOT_RE.finditer(text):
            start = m.start()
            if start and text[start - 1] in _SPDOT_BEFORE:
                found.append((start, m.end(), ".", False))
    found.sort()
    return found


def _in_backslash_path(text: str, at: int) -> bool:
    """True when the `\\` at ``at`` separates path components (``C:\\Users\\x\\.ssh``,
    ``%APPDATA%\\Java\\.NET35``): the name before it follows another backslash, while a
    defanged name (``evil\\.com``, ``sub\\.evil\\.com``) does not."""
    start = at
    while start > 0 and (text[start - 1] in _ALNUM or text[start - 1] in "-_"):
        start -= 1
    return start > 0 and text[start - 1] == "\\"


def _schemes(text: str) -> list[tuple[int, int, str, bool]]:
    """Defanged URL schemes (hxxp, h**p, fxp ...) as replacements."""
    # ASCII bytes, one per character (so offsets hold), lowercased: the spellings are
    # ASCII, and bytes.lower is many times faster than str.lower on non-ASCII text.
    lowered = text.encode("ascii", "replace").lower()
    starts: set[int] = set()
    for needle in _SCHEME_NEEDLES:
        pos = lowered.find(needle)
        while pos != -1:
            starts.add(pos)
            pos = lowered.find(needle, pos + 1)
    out: list[tuple[int, int, str, bool]] = []
    for start in sorted(starts):
        m = _SCHEME_RE.match(text, start)
        if m and (start == 0 or text[start - 1] not in _ALNUM):
            out.append((start, m.end(), "ftp" if text[start] in "fF" else "http", False))
    return out


def refang_map(text: str) -> Refanged:
    """Refang ``text`` and remember where each replacement came from."""
    out = Refanged(text)
    found = _replacements(text)
    if not found:
        return out
    pieces: list[str] = []
    pos = 0  # consumed up to here in the original text
    rpos = 0  # length of the refanged text built so far
    n = len(text)
    for found_start, found_end, value, eat_blanks in found:
        start, end = found_start, found_end
        if eat_blanks:
            while start > pos and text[start - 1] in _SPACES:
                start -= 1
            while end < n and text[end] in _SPACES:
                end += 1
        if start < pos:  # overlaps a replacement already made
            continue
        pieces.append(text[pos:start])
        rpos += start - pos
        out.r_starts.append(rpos)
        out.o_starts.append(start)
        pieces.append(value)
        rpos += len(value)
        out.r_ends.append(rpos)
        out.o_ends.append(end)
        pos = end
    pieces.append(text[pos:])
    out.text = "".join(pieces)
    return out


# Names right after URL-encoded separators (%2F, %3A%2F%2F, %3D ...) of an encoded link.
_PCT_RE = re.compile(r"%(?:2[0CcFf6]|3[AaDdFf])")
_PCT_RUN_RE = re.compile(r"(?:%[0-9A-Fa-f]{2})++")
_PCT_SCHEME = ("http", "https", "hxxp", "hxxps", "ftp")
# what may stand before the escapes that open an encoded value: a blank, a quote, "=" ...
_BEFORE_ESCAPES = frozenset(" \t\r\n\"'`=([{<>,;|")


def open_escapes(searched: str) -> str:
    """``searched`` with the URL-encoded separators that open a value blanked, so that the
    name after them is found (``%2Fevil.com``, ``url=https%3A%2F%2Fevil.com``). They open
    a value after a blank, a quote, ``=`` or a scheme; in ``evil.com/%2Fa.de`` or
    ``50%2Fx.de`` they are part of a path or a word."""
    blanks: list[tuple[int, int]] = []
    end = 0
    for m in _PCT_RE.finditer(searched):
        before = m.start()
        if before < end:
            continue  # inside the run of escapes already looked at
        word = before
        while word and searched[word - 1] in _ALNUM:
            word -= 1
        if word < before and searched[word:before].lower() not in _PCT_SCHEME:
            continue
        if word and searched[word - 1] not in _BEFORE_ESCAPES:
            continue
        run = _PCT_RUN_RE.match(searched, before)
        end = run.end() if run else m.end()
        blanks.append((word, end))
    if not blanks:
        return searched
    pieces: list[str] = []
    pos = 0
    for start, stop in blanks:
        pieces += (searched[pos:start], " " * (stop - start))
        pos = stop
    pieces.append(searched[pos:])
    return "".join(pieces)
