"""Sentence splitting for English and Japanese article text, with no model data.

The splitter works on the text the extractor hands over: paragraphs separated by blank
lines, list items on their own lines, headings as short lines without a full stop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lower-cased, without the final dot. Words that take a dot but rarely end a sentence;
# "etc." is left out on purpose: in enumerations it ends the sentence more often than not.
_ABBREVIATIONS = frozenset(
    {
        "u.s", "u.k", "u.n", "e.u", "e.g", "i.e", "cf", "vs", "v", "al", "approx", "ca",
        "inc", "ltd", "corp", "co", "llc", "plc", "gmbh", "dept", "est",
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "sen", "rep", "gov", "lt",
        "no", "nos", "fig", "figs", "vol", "ver", "p", "pp", "a.m", "p.m",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    }
)  # fmt: skip

# An English sentence end: terminal punctuation, closing quotes or brackets, then white
# space and something that can open a sentence. Requiring the space is what keeps
# decimals, versions, IPs, domains and file names (3.5, v1.2.3, 45.137.21.9, evil.com,
# svchost.exe, evil[.]com) whole: none of them has a space after the dot.
_EN_END = re.compile(r"(?:[.!?]+|…)[\"'”’)\]]*(?=\s+[\"'“‘(\[]*[A-Z0-9])")
# Text that lost the space between two paragraphs ("...in EwDoor.The initial version").
# Only before common sentence openers: "System.Threading" or "Foo.Bar" must stay whole.
_GLUED = re.compile(
    r"(?<=[a-z]{3}[.!?])(?=(?:The|This|These|That|Those|It|Its|In|On|At|As|We|Our|However|"
    r"Although|According|After|Based|Since|When|While|They|Their|There|Currently|So|"
    r"Furthermore|Moreover|Additionally|Also|Finally|Once|During|Researchers|Attackers)\b)"
)
# Japanese ends: 。！？ (with any closing brackets after them) end a sentence anywhere; the
# full-width ．only when no digit or Latin letter follows (it is also a decimal point).
_JA_END = re.compile(r"[。！？]+[」』）)】]*|．(?![0-9０-９A-Za-zＡ-Ｚａ-ｚ])[」』）)】]*")
_QUOTE_PAIRS = {"「": "」", "『": "』"}
_LIST_MARKER = re.compile(r"^\s*(?:[-*•・●◆■□▪‣–—>]|\(?\d{1,3}[.)]|\(?[a-z][.)]|[①-⑳])\s+")
_LIST_MARKER_JA = re.compile(r"^\s*[・●◆■□▪①-⑳]\s*")
_TERMINAL = re.compile(r"(?:[.!?。！？．…:：;；]|[.!?。！？][\"'”’」』）)\]】]+)$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_WS = re.compile(r"\s+")
_PARAGRAPHS = re.compile(r"\n[ \t\u3000]*\n")
_HEADING_MAX_WORDS = 12
_HEADING_MAX_CJK_CHARS = 40


@dataclass(frozen=True, slots=True)
class Sentence:
    """One unit of the text: a sentence, a list item or a heading, with where it stands."""

    text: str
    index: int  # position among all units, headings included
    paragraph: int
    heading: bool  # a short line without terminal punctuation: a title or a subheading
    list_item: bool
    fragment: bool  # short and unpunctuated: a label, a table cell, a heading-like list item


def _is_cjk_text(text: str, threshold: float = 0.2) -> bool:
    """True when enough of the characters are Japanese/Chinese script to measure in chars."""
    return len(_CJK.findall(text)) >= threshold * max(len(text.replace(" ", "")), 1)


def _is_short(text: str) -> bool:
    if _is_cjk_text(text):
        return len(text) <= _HEADING_MAX_CJK_CHARS
    return len(text.split()) <= _HEADING_MAX_WORDS


def _lines(paragraph: str) -> list[tuple[str, bool]]:
    """The lines of one paragraph as (text, is_list_item), hard-wrapped lines joined again."""
    out: list[tuple[str, bool]] = []
    for raw in paragraph.split("\n"):
        line = raw.strip()
        if not line:
            continue
        marker = _LIST_MARKER.match(raw) or _LIST_MARKER_JA.match(raw)
        if marker:
            out.append((raw[marker.end() :].strip(), True))
            continue
        prev = out[-1][0] if out else ""
        # A soft wrap: the previous line stops mid-sentence and this one goes on in lower
        # case. Anything else (a capital, a new list item, Japanese) starts a new unit,
        # because extracted text puts one paragraph or list item per line.
        if prev and line[0].islower() and not _TERMINAL.search(prev) and not out[-1][1]:
            out[-1] = (prev + " " + line, False)
        else:
            out.append((line, False))
    return out


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Spans inside matched 「」 / 『』 pairs; an unmatched opener protects nothing."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if ch in _QUOTE_PAIRS:
            stack.append((_QUOTE_PAIRS[ch], i))
        elif stack and ch == stack[-1][0]:
            _, start = stack.pop()
            if not stack:
                spans.append((start, i))
    return spans


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the word that ends at `dot` (the index of its period) is an abbreviation."""
    word = text[:dot].rsplit(None, 1)[-1] if text[:dot].strip() else ""
    word = word.lstrip("\"'“‘([").lower()
    if word in _ABBREVIATIONS:
        return True
    # A single initial ("John F. Kennedy") or a dotted acronym ("U.S.A.").
    return bool(re.fullmatch(r"[a-z]|(?:[a-z]\.)+[a-z]", word))


def _split_line(line: str) -> list[str]:
    """Split one line (no newlines, whitespace collapsed) at its sentence ends."""
    line = _GLUED.sub(" ", line)
    protected = _quote_spans(line) if "「" in line or "『" in line else []
    ends: list[tuple[int, int]] = []  # (where the punctuation starts, where the cut goes)
    for m in _EN_END.finditer(line):
        if m.group().rstrip("\"'”’)]").endswith(".") and _is_abbreviation(line, m.start()):
            continue
        if line.endswith("Yahoo", 0, m.start()):
            continue  # "Yahoo! Japan" is a brand, and common in Japanese security news
        ends.append((m.start(), m.end()))
    ends.extend((m.start(), m.end()) for m in _JA_END.finditer(line))
    if protected:
        # A quoted remark keeps its own full stops: 「…。」 is one part of the sentence.
        ends = [e for e in ends if not any(a < e[0] < b for a, b in protected)]
    cuts = [cut for _, cut in ends]
    out: list[str] = []
    start = 0
    for cut in sorted(set(cuts)):
        piece = line[start:cut].strip()
        if piece:
            out.append(piece)
        start = cut
    tail = line[start:].strip()
    if tail:
        out.append(tail)
    return out


def segment(text: str) -> list[Sentence]:
    """Split text into sentences, list items and headings, in document order."""
    units: list[Sentence] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for p_index, paragraph in enumerate(_PARAGRAPHS.split(text)):
        for raw, is_list in _lines(paragraph):
            line = _WS.sub(" ", raw).strip()
            if not line:
                continue
            short_unpunctuated = not _TERMINAL.search(line) and _is_short(line)
            # Headings and labels are kept whole: splitting them gains nothing.
            pieces = [line] if short_unpunctuated else _split_line(line)
            for piece in pieces:
                frag = short_unpunctuated or (not _TERMINAL.search(piece) and _is_short(piece))
                units.append(
                    Sentence(
                        text=piece,
                        index=len(units),
                        paragraph=p_index,
                        heading=short_unpunctuated and not is_list,
                        list_item=is_list,
                        fragment=frag,
                    )
                )
    return units
