"""One pass over the cleaned DOM: blocks of text in document order and per-element tallies."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "body", "center", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
    "fieldset", "legend", "td", "th"
})  # fmt: skip
# Blocks that are one paragraph of text; the others are containers that can be the article.
PARAGRAPH_TAGS = frozenset({
    "p", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dd", "dt", "tr", "figcaption",
    "address", "summary", "caption", "legend"
})  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
_BR = "\x00"  # Lexbor turns NUL in text into U+FFFD, so this marker can't occur in a page
_CJK = "\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff01-\uff9f"
# A source line break between two CJK characters is not a space (CSS Text segment breaks).
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t\r\f]*\n\s*(?=[{_CJK}])")
# A block of at least this many characters, with few of them in links, reads as prose.
_PROSE_CHARS = 80
_PROSE_LINKS = 0.3


@dataclass(slots=True)
class Walk:
    """Blocks of text in document order and per-element tallies, from one pass over the DOM."""

    # Per block element, indexed by its record number, in document (pre-)order.
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)  # characters of link text
    anchors: list[int] = field(default_factory=list)  # number of links
    prose: list[int] = field(default_factory=list)  # characters in sentence-like blocks
    scores: list[float] = field(default_factory=list)
    mem_ids: list[int] = field(default_factory=list)
    # Per block of text: (position, text, kind).
    blocks: list[tuple[int, str, str]] = field(default_factory=list)

    def open(self, pos: int, parent: int, tag: str, mem_id: int) -> int:
        self.starts.append(pos)
        self.ends.append(pos)
        self.parents.append(parent)
        self.tags.append(tag)
        self.chars.append(0)
        self.links.append(0)
        self.anchors.append(0)
        self.prose.append(0)
        self.scores.append(0.0)
        self.mem_ids.append(mem_id)
        return len(self.starts) - 1


def _block_text(raw: str, pre: bool) -> str:
    if pre:
        lines = [line.rstrip() for line in raw.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip("\n")
    if "\n" in raw and not raw.isascii():
        raw = _CJK_BREAK.sub("", raw)
    if _BR not in raw:
        return " ".join(raw.split())
    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in raw.split(_BR):
        line = " ".join(raw_line.split())
        if line:
            current.append(line)
        elif current:  # <br><br> ends a paragraph
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return "\n\n".join(paragraphs)


def walk(root: LexborNode, drops: Callable[[LexborNode, str], bool] | None = None) -> Walk:
    """One iterative pass: text blocks, their link share, and readability-style scores.

    Elements for which `drops(node, tag)` is true are skipped with all they contain.
    """
    w = Walk()
    recs: list[int] = []  # open block elements, innermost last
    inline: list[str] = []  # open inline elements
    depths: list[int] = []  # len(inline) when each block opened
    pieces: list[str] = []
    piece_pos = 0
    link_chars = 0
    in_link = 0
    in_pre = 0
    cell_open = False
    pos = 0
    tags, chars, links, scores, parents = w.tags, w.chars, w.links, w.scores, w.parents
    prose = w.prose

    def flush() -> None:
        nonlocal pieces, link_chars
        text = _block_text("".join(pieces), in_pre > 0)
        pieces = []
        if text and recs:
            owner = recs[-1]
            w.blocks.append((piece_pos, text, tags[owner]))
            size = len(text)
            chars[owner] += size
            links[owner] += min(link_chars, size)
            if size >= _PROSE_CHARS and link_chars < _PROSE_LINKS * size:
                prose[owner] += size
            if size >= 25:
                commas = text.count(",") + text.count("，") + text.count("、") + text.count("。")
                score = 1 + commas + min(size / 100, 3)
                # The paragraph's container gets the score, its parents a share of it.
                chain = recs[-4:] if tags[owner] in PARAGRAPH_TAGS else recs[-3:]
                if len(chain) == 4:
                    chain = chain[:3]
                for level, rec in enumerate(reversed(chain), 1):
                    scores[rec] += score / level
        link_chars = 0

    node: LexborNode | None = root
    depth = 0
    while node is not None:
        tag = node.tag or ""
        pos += 1
        descend = False
        if tag == "-text":
            text = node.text_content or ""
            # Whitespace before any text of a block is dropped anyway.
            if text:
                if not pieces:
                    piece_pos = pos
                pieces.append(text)
                if in_link:
                    link_chars += len(text.strip())
        elif tag == "br":
            pieces.append(_BR)
        elif tag and tag[0] != "-":
            if drops is not None and depth > 0 and drops(node, tag):
                tag = ""  # nothing was opened, so nothing to close
            else:
                if tag in _BLOCK_TAGS:
                    if tag in _CELL_TAGS:
                        # Cells of a row stay on one line; the row is the block.
                        if cell_open:
                            pieces.append(" | ")
                        cell_open = True
                    else:
                        if pieces:
                            flush()
                        if tag == "tr":
                            cell_open = False
                    rec = w.open(pos, recs[-1] if recs else -1, tag, node.mem_id)
                    recs.append(rec)
                    depths.append(len(inline))
                else:
                    if tag == "a":
                        in_link += 1
                        if recs:
                            w.anchors[recs[-1]] += 1
                    inline.append(tag)
                in_pre += tag == "pre"
                descend = True
        child = node.first_child if descend else None
        if child is not None:
            node = child
            depth += 1
            continue
        # Leaf or childless element: close it, then climb until a next sibling appears.
        while True:
            if tag and tag[0] != "-" and tag != "br":
                if recs and depths[-1] == len(inline):
                    rec = recs.pop()
                    depths.pop()
                    if pieces and tag not in _CELL_TAGS:
                        recs.append(rec)
                        flush()
                        recs.pop()
                    w.ends[rec] = pos
                    parent = parents[rec]
                    if parent >= 0:
                        chars[parent] += chars[rec]
                        links[parent] += links[rec]
                        w.anchors[parent] += w.anchors[rec]
                        prose[parent] += prose[rec]
                elif inline:
                    in_link -= inline.pop() == "a"
                in_pre -= tag == "pre"
            if depth == 0:
                node = None
                break
            sibling = node.next
            if sibling is not None:
                node = sibling
                break
            parent_node = node.parent
            if parent_node is None:  # detached mid-walk: cannot happen in a pure pass, but stop
                node = None
                break
            node = parent_node
            depth -= 1
            tag = node.tag or ""
    if pieces:
        flush()
    return w
