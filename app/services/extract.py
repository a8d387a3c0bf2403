"""Main text and metadata of an article page: pure, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from app.services.charset import decode_html
from app.services.extract_clean import bound_depth, clean_tree
from app.services.extract_meta import (
    PageMeta,
    choose_lang,
    clean_space,
    published_of,
    read_meta,
    strip_site_suffix,
)
from app.services.lang import detect_lang


@dataclass(frozen=True, slots=True)
class ArticleText:
    """The readable part of a page and what the page says about itself."""

    title: str | None
    text: str  # main text; paragraphs/blocks separated by "\n\n"
    published: datetime | None  # tz-aware when the page gives a zone, naive otherwise
    lang: str | None  # "ja", "en", ...
    author: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None


_MAX_BYTES = 5_000_000
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "body", "center", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
    "fieldset", "legend", "td", "th"
})  # fmt: skip
# Blocks that are one paragraph of text; the others are containers that can be the article.
_PARAGRAPH_TAGS = frozenset({
    "p", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dd", "dt", "tr", "figcaption",
    "address", "summary", "caption", "legend"
})  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
_LINE_KINDS = frozenset({"li", "tr", "dd", "dt"})
_SEMANTIC = ("[itemprop=articleBody]", "article", "main", "[role=main]")
_BR = "\x00"  # Lexbor turns NUL in text into U+FFFD, so this marker can't occur in a page
_SPACE = re.compile(r"\s+")
_CJK = "\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff01-\uff9f"
# A source line break between two CJK characters is not a space (CSS Text segment breaks).
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t\r\f]*\n\s*(?=[{_CJK}])")
_COMMAS = re.compile(r"[,，、。]")


@dataclass(slots=True)
class _Walk:
    """Blocks of text in document order and per-element tallies, from one pass over the DOM."""

    # Per block element, indexed by its record number.
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    chars: list[int] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    mem_ids: list[int] = field(default_factory=list)
    # Per block of text: (position, text, kind).
    blocks: list[tuple[int, str, str]] = field(default_factory=list)


def _block_text(raw: str, pre: bool) -> str:
    if pre:
        lines = [line.rstrip() for line in raw.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip("\n")
    if "\n" in raw and not raw.isascii():
        raw = _CJK_BREAK.sub("", raw)
    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in raw.split(_BR):
        line = _SPACE.sub(" ", raw_line).strip()
        if line:
            current.append(line)
        elif current:  # <br><br> ends a paragraph
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return "\n\n".join(paragraphs)


def _walk(root: LexborNode) -> _Walk:
    """One iterative pass: text blocks, their link share, and readability-style scores."""
    w = _Walk()
    # Open elements: (record number or -1 for inline, tag).
    stack: list[tuple[int, str]] = []
    pieces: list[str] = []
    piece_pos = 0
    link_chars = 0
    in_link = 0
    in_pre = 0
    cell_open = False
    pos = 0

    def flush() -> None:
        nonlocal pieces, link_chars
        if not pieces:
            return
        text = _block_text("".join(pieces), in_pre > 0)
        pieces = []
        owner = next((r for r, _ in reversed(stack) if r >= 0), -1)
        if text and owner >= 0:
            kind = next(t for r, t in reversed(stack) if r >= 0)
            w.blocks.append((piece_pos, text, kind))
            size = len(text)
            w.chars[owner] += size
            w.links[owner] += min(link_chars, size)
            if size >= 25:
                score = 1 + len(_COMMAS.findall(text)) + min(size / 100, 3)
                # The paragraph's container gets the score, its parents a share of it.
                level = 0
                for rec, tag in reversed(stack):
                    if rec < 0 or (level == 0 and tag in _PARAGRAPH_TAGS):
                        continue
                    level += 1
                    w.scores[rec] += score / level
                    if level == 3:
                        break
        link_chars = 0

    node: LexborNode | None = root
    depth = 0
    while node is not None:
        tag = node.tag or ""
        pos += 1
        descend = False
        if tag == "-text":
            text = node.text_content or ""
            if text:
                if not pieces:
                    piece_pos = pos
                pieces.append(text)
                if in_link:
                    link_chars += len(text.strip())
        elif tag == "br":
            pieces.append(_BR)
        elif tag and tag[0] != "-":
            if tag in _CELL_TAGS:
                # Cells of a row stay on one line; the row is the block.
                if cell_open:
                    pieces.append(" | ")
                cell_open = True
            if tag in _BLOCK_TAGS:
                if tag not in _CELL_TAGS:
                    flush()
                if tag == "tr":
                    cell_open = False
                w.starts.append(pos)
                w.ends.append(pos)
                w.parents.append(next((r for r, _ in reversed(stack) if r >= 0), -1))
                w.chars.append(0)
                w.links.append(0)
                w.scores.append(0.0)
                w.mem_ids.append(node.mem_id)
                stack.append((len(w.starts) - 1, tag))
            else:
                stack.append((-1, tag))
            in_link += tag == "a"
            in_pre += tag == "pre"
            descend = True
        child = node.first_child if descend else None
        if child is not None:
            node = child
            depth += 1
            continue
        # Leaf or childless element: close it, then climb until a next sibling appears.
        while True:
            if tag and tag[0] != "-" and tag != "br" and stack:
                rec, open_tag = stack[-1]
                if rec >= 0:
                    if open_tag not in _CELL_TAGS:
                        flush()
                    w.ends[rec] = pos
                    parent = w.parents[rec]
                    if parent >= 0:
                        w.chars[parent] += w.chars[rec]
                        w.links[parent] += w.links[rec]
                stack.pop()
                in_link -= open_tag == "a"
                in_pre -= open_tag == "pre"
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
    flush()
    return w


def _container(tree: LexborHTMLParser, w: _Walk) -> list[tuple[int, int]]:
    """Position ranges of the main content: a semantic element, else the best-scored block."""
    if not w.starts:
        return []
    total = w.chars[0] - w.links[0]

    def own(rec: int) -> float:
        return w.chars[rec] - w.links[rec]

    def rank(rec: int) -> float:
        density = w.links[rec] / w.chars[rec] if w.chars[rec] else 1.0
        return w.scores[rec] * (1 - density)

    best = max(range(len(w.starts)), key=rank)
    index = {m: i for i, m in enumerate(w.mem_ids)}
    for selector in _SEMANTIC:
        recs = [index[n.mem_id] for n in tree.css(selector) if n.mem_id in index]
        if recs:
            rec = max(recs, key=own)
            holds_best = w.starts[rec] <= w.starts[best] < w.ends[rec]
            if own(rec) >= 0.5 * total or (holds_best and own(rec) >= 0.3 * total):
                return [(w.starts[rec], w.ends[rec])]
    # Readability's sibling rule: the article is often split over neighbouring blocks.
    parent = w.parents[best]
    threshold = max(10.0, 0.2 * w.scores[best])
    ranges = []
    for rec in range(len(w.starts)):
        if rec == best or (
            parent >= 0
            and w.parents[rec] == parent
            and (rank(rec) >= threshold or (own(rec) >= 80 and w.links[rec] < 0.25 * w.chars[rec]))
        ):
            ranges.append((w.starts[rec], w.ends[rec]))
    return ranges


def _join(blocks: list[tuple[int, str, str]], ranges: list[tuple[int, int]]) -> str:
    out: list[str] = []
    last_kind = ""
    ranges = sorted(ranges)
    current = 0
    # Blocks and ranges are both in document order and ranges don't overlap: one merge pass.
    for position, text, kind in blocks:
        while current < len(ranges) and ranges[current][1] < position:
            current += 1
        if current == len(ranges):
            break
        if position < ranges[current][0]:
            continue
        if out:
            same_list = kind == last_kind and kind in _LINE_KINDS
            out.append("\n" if same_list else "\n\n")
        out.append(text)
        last_kind = kind
    return "".join(out)


def _first_heading(tree: LexborHTMLParser, site_name: str | None) -> str | None:
    site = (site_name or "").lower()
    for selector in ("article h1", "main h1", "h1"):
        for node in tree.css(selector):
            text = clean_space(node.text())
            if len(text) >= 4 and text.lower() != site:
                return text
    return None


def _time_values(tree: LexborHTMLParser) -> list[str]:
    nodes = tree.css("article time[datetime]") or tree.css("time[datetime]")
    return [v for n in nodes[:5] if (v := n.attributes.get("datetime"))]


def _title(page: PageMeta, heading: str | None, url: str | None) -> str | None:
    site = page.meta.get("og:site_name")
    host = urlsplit(url).hostname if url else None
    for candidate in (
        page.meta.get("og:title"),
        page.meta.get("twitter:title"),
        heading,
        page.jsonld_headline,
        page.title_tag,
    ):
        if candidate and (title := clean_space(candidate)):
            return strip_site_suffix(title, site, host)
    return None


def extract_article(
    html: bytes | str, url: str | None = None, *, content_type: str | None = None
) -> ArticleText:
    """Main text and metadata of an HTML page; pure, no I/O."""
    if isinstance(html, bytes):
        html, _codec = decode_html(html[:_MAX_BYTES], content_type)
    tree = LexborHTMLParser(bound_depth(html[:_MAX_BYTES]))
    page = read_meta(tree)
    site_name = page.meta.get("og:site_name") or page.jsonld_publisher
    heading = _first_heading(tree, site_name)
    time_values = _time_values(tree)
    clean_tree(tree)
    text = ""
    if tree.body is not None:
        walk = _walk(tree.body)
        text = _join(walk.blocks, _container(tree, walk))
    canonical = page.canonical or page.meta.get("og:url")
    if canonical and url:
        canonical = urljoin(url, canonical)
    author = page.meta.get("author") or page.jsonld_author
    return ArticleText(
        title=_title(page, heading, url),
        text=text,
        published=published_of(page, time_values),
        lang=choose_lang(page.html_lang, text),
        author=author if author and not author.startswith("http") else page.jsonld_author,
        site_name=site_name,
        canonical_url=canonical,
        description=page.meta.get("description")
        or page.meta.get("og:description")
        or page.meta.get("twitter:description"),
    )


def text_to_article(text: str, title: str | None = None) -> ArticleText:
    """An article from plain text: whitespace normalised, paragraphs kept, title guessed."""
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [clean_space(line) for line in chunk.split("\n")]
        if joined := "\n".join(line for line in lines if line):
            paragraphs.append(joined)
    if title is None and paragraphs:
        first, _, rest = paragraphs[0].partition("\n")
        # A short first line with no sentence end is a headline, not the lead sentence.
        if (
            len(first) <= 150
            and not first.endswith((".", "。", "!", "?", ":", "："))
            and (rest or len(paragraphs) > 1)
        ):
            title = first
            paragraphs = ([rest] if rest else []) + paragraphs[1:]
    body = "\n\n".join(paragraphs)
    return ArticleText(
        title=clean_space(title) or None if title else None,
        text=body,
        published=None,
        lang=detect_lang(body) if body else None,
    )
