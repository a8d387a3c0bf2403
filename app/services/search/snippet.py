"""The snippet of a search result: a short window of plain text, the terms marked. Pure.

The terms are marked with « and » (U+00AB, U+00BB). The snippet is plain text otherwise:
any « or » of the entry's own text is shown as ‹ or › (U+2039, U+203A), so that every «
and » of a snippet is a mark. A frontend splits on them and inserts the pieces as text
(never as HTML): nothing in a snippet is markup, and nothing needs escaping in JSON.
Runs of white space (line breaks included) are one space; control characters are dropped.

The same function makes the snippets of both databases, so that they answer alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MARK_OPEN = "«"
MARK_CLOSE = "»"
ELLIPSIS = "…"
SNIPPET_CHARS = 160
# How much text comes before the first mark, so that it is read in context.
_LEAD_CHARS = 40
# Past this, the text is not looked at: a snippet shows the first matches of an entry.
_SCAN_CHARS = 200_000
_MAX_MATCHES = 400

_OWN_MARKS = str.maketrans({MARK_OPEN: "‹", MARK_CLOSE: "›"})
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BREAK = re.compile(r"[\s。、．，.,;:!?！？]")


def _plain(text: str) -> str:
    return _SPACE.sub(" ", _CONTROL.sub("", text)).translate(_OWN_MARKS)


def _pattern(terms: Sequence[str]) -> re.Pattern[str]:
    # Longest first: where "ransomware" and "ransom" both match, the longer one is marked.
    ordered = sorted({term.casefold(): term for term in terms}.values(), key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in ordered), re.IGNORECASE)


def _best_window(matches: list[re.Match[str]], width: int) -> tuple[int, int]:
    """(distinct terms, -position) of the best window that starts at a match."""
    best = (0, 0)
    best_start = 0
    for index, first in enumerate(matches):
        found = set()
        for match in matches[index:]:
            if match.end() > first.start() + width:
                break
            found.add(match.group().casefold())
        score = (len(found), -first.start())
        if score > best:
            best, best_start = score, first.start()
    return best[0], best_start


def make_snippet(texts: Sequence[str], terms: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    """A window of the first text that shows the most terms, the terms marked «so».

    `texts` in order of preference (an entry's notes, its article's text, its title);
    without any match (a term found only across a line break), the start of the first
    text that has any.
    """
    pattern = _pattern([term for term in terms if term]) if any(terms) else None
    chosen: tuple[int, int, int] | None = None  # (distinct terms, -text index, start)
    for number, text in enumerate(texts):
        if pattern is None or not text:
            continue
        matches = []
        for match in pattern.finditer(text, 0, _SCAN_CHARS):
            matches.append(match)
            if len(matches) >= _MAX_MATCHES:
                break
        if not matches:
            continue
        distinct, start = _best_window(matches, width)
        if chosen is None or (distinct, -number) > chosen[:2]:
            chosen = (distinct, -number, start)
    if chosen is None:
        first = next((text for text in texts if text.strip()), "")
        return _cut(first, 0, width, None)
    return _cut(texts[-chosen[1]], chosen[2], width, pattern)


def _cut(text: str, anchor: int, width: int, pattern: re.Pattern[str] | None) -> str:
    start = max(0, anchor - _LEAD_CHARS)
    if start:
        # Begin after a break (a space, a 。) near the cut, rather than mid-word.
        space = _BREAK.search(text, start, anchor)
        if space is not None and space.end() <= anchor:
            start = space.end()
    end = min(len(text), start + width)
    pieces: list[str] = []
    position = start
    if pattern is not None:
        for match in pattern.finditer(text, start, end + 200):
            if match.start() >= end:
                break
            pieces += [_plain(text[position : match.start()]), MARK_OPEN]
            pieces += [_plain(match.group()), MARK_CLOSE]
            position = match.end()
    end = max(end, position)
    pieces.append(_plain(text[position:end]))
    body = "".join(pieces).strip()
    return (ELLIPSIS if start > 0 else "") + body + (ELLIPSIS if end < len(text) else "")
