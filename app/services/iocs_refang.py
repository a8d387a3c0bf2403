"""Refanging with an offset map back to the original text (private helper of iocs.py).

The finder refangs the whole text once and runs plain regexes over the result; the map
turns spans in the refanged text back into spans of the text as written, so that
``Ioc.start``/``Ioc.end``/``Ioc.raw`` and ``defang_text`` work on the caller's text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

# Separate small passes, each starting with a rare character or a literal so that the
# regex engine skips ordinary prose at C speed (one alternation with lookbehinds at every
# position ran at ~5 MB/s; these run at 100+). Vocabulary after iocextract's refang rules
# (``[.]``, ``(dot)``, ``[:]``, ``(/)``, backslash-dot, ``hxxp``/``fxp``), plus the
# ``{.}``, ``[@]``, ``[at]`` and ``[://]`` forms seen in CTI reports.
_BRACKET_RE = re.compile(r"[\[\(\{][ \t]*(?P<inner>\.|(?i:dot)|://|:|/|@|(?i:at))[ \t]*[\]\)\}]")
# hxxp, hXXps, h**p, h[xx]p, h__p, fxp: the first character is consumed (not asserted)
# so that the engine can use it as a fast-skip set.
_SCHEME_RE = re.compile(
    r"[hHfF](?:(?<=[hH])(?:[xX]{2,3}|\*\*|\[[xX]{2}\]|__)|(?<=[fF])[xX]{1,2})[pP]"
    r"(?=[sS]?(?:[\[\(]:|:))"
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


@dataclass(slots=True)
class Refanged:
    """Refanged text plus the replaced runs, as parallel sorted lists of positions."""

    text: str
    r_starts: list[int] = field(default_factory=list)  # run start in the refanged text
    r_ends: list[int] = field(default_factory=list)
    o_starts: list[int] = field(default_factory=list)  # the same run in the original text
    o_ends: list[int] = field(default_factory=list)

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
    for m in _BRACKET_RE.finditer(text):
        value = _INNER[m.group("inner").lower()]
        # "user [at] evil [dot] com": the blanks are part of the obfuscation.
        found.append((m.start(), m.end(), value, value in ".@"))
    for m in _SCHEME_RE.finditer(text):
        start = m.start()
        if start == 0 or text[start - 1] not in _ALNUM:
            found.append((start, m.end(), "ftp" if text[start] in "fF" else "http", False))
    for m in _BSDOT_RE.finditer(text):
        start, end = m.span()
        if start and text[start - 1] in _ALNUM and text[end : end + 1] in _ALNUM:
            found.append((start, end, ".", False))
    for m in _SPDOT_RE.finditer(text):
        start = m.start()
        if start and text[start - 1] in _SPDOT_BEFORE:
            found.append((start, m.end(), ".", False))
    found.sort()
    return found


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
