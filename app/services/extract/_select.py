"""Choose the main content among the blocks of a walk, drop link farms inside it, join the text."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from app.services.extract._blocks import Walk
from app.services.extract._meta import title_key

_SEMANTIC = ("[itemprop=articleBody]", "article", "main", "[role=main]")
_LINE_KINDS = frozenset({"li", "tr", "dd", "dt"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Link farms: "related stories", "more on", tag clouds. Tables and lists of real data have links
# too, so a farm must be short and nearly all link text, or many short links and little else.
_FARM_SHORT = 300
_FARM_SHORT_SHARE = 0.8
_FARM_MIN_ANCHORS = 5
_FARM_SHARE = 0.6
_FARM_MAX_LINK = 100  # mean characters per link; longer links are a listing's entries

_LISTING_SHARE = 0.3
# Widening: the ancestor must add this share of the prose held so far, and this many times
# more prose than other text.
_WIDEN_GAIN = 0.5
_WIDEN_JUNK = 2.0

Range = tuple[int, int]


def container(tree: LexborHTMLParser, w: Walk) -> list[Range]:
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
    # One query for all kinds, then the kinds in order of trust.
    found: list[list[int]] = [[] for _ in _SEMANTIC]
    for node in tree.css(",".join(_SEMANTIC)):
        rec = index.get(node.mem_id)
        if rec is not None:
            attrs = node.attributes
            kind = (
                0
                if attrs.get("itemprop") == "articleBody"
                else 1
                if node.tag == "article"
                else 2
                if node.tag == "main"
                else 3
            )
            found[kind].append(rec)
            if kind != 3 and attrs.get("role") == "main":
                found[3].append(rec)
    for recs in found:
        if recs:
            rec = max(recs, key=own)
            holds_best = w.starts[rec] <= w.starts[best] < w.ends[rec]
            if own(rec) >= 0.5 * total or (holds_best and own(rec) >= 0.3 * total):
                return [(w.starts[rec], w.ends[rec])]
    best = _widen(w, best)
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


def _widen(w: Walk, best: int) -> int:
    """Climb from the best block while an ancestor adds much prose and little else.

    Forum threads, FAQ and service pages spread their text over many blocks of equal rank;
    the best one alone is a fraction of the content.
    """
    current = best
    rec = w.parents[best]
    while rec >= 0:
        gain = w.prose[rec] - w.prose[current]
        junk = (w.chars[rec] - w.prose[rec]) - (w.chars[current] - w.prose[current])
        if (gain == 0 and junk == 0) or (
            gain >= _WIDEN_GAIN * w.prose[current] and gain >= _WIDEN_JUNK * junk
        ):
            current = rec
        rec = w.parents[rec]
    return current


def is_link_farm(chars: int, link_chars: int, anchors: int) -> bool:
    """A block that is a list of links to elsewhere rather than text."""
    if chars == 0 or anchors == 0:
        return False
    if chars < _FARM_SHORT and link_chars > _FARM_SHORT_SHARE * chars:
        return True
    return (
        anchors >= _FARM_MIN_ANCHORS
        and link_chars > _FARM_SHARE * chars
        and link_chars < _FARM_MAX_LINK * anchors
    )


def link_farms(w: Walk, ranges: list[Range]) -> list[Range]:
    """Outermost link farms strictly inside the chosen ranges, in document order."""
    farms: list[Range] = []
    spans = sorted(ranges)
    # A page whose main content is itself mostly links is a listing: its links are the content.
    index = {(w.starts[r], w.ends[r]): r for r in range(len(w.starts))}
    tops = [index[s] for s in spans if s in index]
    chars = sum(w.chars[r] for r in tops)
    if not chars or sum(w.links[r] for r in tops) > _LISTING_SHARE * chars:
        return farms
    current = 0
    for rec in range(len(w.starts)):
        start, end = w.starts[rec], w.ends[rec]
        while current < len(spans) and spans[current][1] < start:
            current += 1
        if current == len(spans):
            break
        low, high = spans[current]
        if start <= low or end > high or (farms and start <= farms[-1][1]):
            continue
        if is_link_farm(w.chars[rec], w.links[rec], w.anchors[rec]):
            farms.append((start, end))
    return farms


def join(w: Walk, ranges: list[Range], titles: set[str]) -> str:
    """Text of the blocks inside the ranges and outside link farms, the headline left out."""
    out: list[str] = []
    last_kind = ""
    spans = sorted(ranges)
    farms = link_farms(w, spans)
    current = 0
    farm = 0
    # Blocks, ranges and farms are all in document order: one merge pass.
    for position, text, kind in w.blocks:
        while current < len(spans) and spans[current][1] < position:
            current += 1
        if current == len(spans):
            break
        if position < spans[current][0]:
            continue
        while farm < len(farms) and farms[farm][1] < position:
            farm += 1
        if farm < len(farms) and farms[farm][0] <= position:
            continue
        # The headline is the title, not part of the text.
        if kind in _HEADINGS and title_key(text) in titles:
            continue
        if out:
            same_list = kind == last_kind and kind in _LINE_KINDS
            out.append("\n" if same_list else "\n\n")
        out.append(text)
        last_kind = kind
    return "".join(out)
