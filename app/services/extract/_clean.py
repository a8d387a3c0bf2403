"""Before and after parsing: bound the nesting depth, then remove boilerplate from the DOM."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Opening a block element makes Lexbor scan the stack of open elements, so 100k nested divs
# take ~30 s to parse. Browsers cap the tree depth (Chromium at 512); we do the same, but only
# look when a page has enough tags for the quadratic cost to matter.
_GUARD_MIN_TAGS = 10_000
_MAX_DEPTH = 512
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>")
_NO_DEPTH = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "param", "keygen", "p", "li", "dt", "dd", "option", "tr", "td", "th"
})  # fmt: skip

_DROP_TAGS = [
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed",
    "input", "button", "select", "textarea", "option", "nav", "header", "footer", "aside", "dialog",
    "menu", "audio", "video", "picture", "map", "label", "fieldset", "figcaption", "math",
]  # fmt: skip
# Class/id words of boilerplate. Tokens are split into parts ("post-comments" -> post, comments;
# "shareButtons" -> share, buttons) and a part must equal a word, so "entry-content",
# "headline" and "shadow" are never mistaken for "ad" or "header".
_STRONG_PARTS = frozenset({
    "comment", "comments", "commentlist", "disqus", "respond", "sidebar", "related", "share",
    "sharing", "sharedaddy", "social", "newsletter", "subscribe", "subscription", "cookie",
    "cookies", "consent", "gdpr", "advert", "adverts", "advertisement", "advertising", "ad",
    "ads", "adsense", "adslot", "breadcrumb", "breadcrumbs", "menu", "popup", "modal", "promo",
    "promos", "footer", "nav", "navbar", "navigation", "pagination", "pager", "masthead",
    "outbrain", "taboola", "sponsored", "signup", "toolbar",
})  # fmt: skip
# Weaker words: bylines, dates, tags, captions, widgets. A block named so is dropped only when it
# is small beside the page, since "post-meta" or "widget" also wrap whole articles on some sites.
_WEAK_PARTS = frozenset({
    "byline", "author", "authors", "dateline", "timestamp", "date", "meta", "tags", "tag",
    "caption", "credit", "banner", "rating", "recommended", "trending", "popular",
    "follow", "bio",
})  # fmt: skip
# A token that names the content ("article-body", "entry-content", "l-article-body-segment")
# vouches for the element whatever its other tokens say ("pagination-first", "l-sidebar-fixed").
_CONTENT_PARTS = frozenset({"content", "body", "text"})
_BOILER_TOKENS = frozenset(
    ["header", "site-header", "sr-only", "screen-reader-text", "visually-hidden", "visuallyhidden"]
)
# Parts that describe a layout state, not a block: "has-sidebar", "content-sidebar-wrap",
# "comments-open" sit on the wrappers that hold the article itself.
_STATE_PARTS = frozenset({
    "has", "no", "with", "without", "is", "open", "opened", "enabled", "active", "layout",
    "wrap", "wrapper", "container", "template", "body"
})  # fmt: skip
_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPLIT_PARTS = re.compile(r"[-_\s]+|(?<=[a-z])(?=[A-Z])")
# A cheap first look at a class or id: does any part of it name boilerplate at all?
_ANY_PART = _STRONG_PARTS | _WEAK_PARTS | {p for t in _BOILER_TOKENS for p in _SPLIT_PARTS.split(t)}
_PROTECTED_TAGS = frozenset({"html", "body", "main"})
# A block that holds more than this share of the page's text is the page, whatever its class.
_WRAPPER_SHARE = 0.6
_WEAK_SHARE = 0.2
_NONE, _WEAK, _STRONG = 0, 1, 2
# Class strings repeat within a page and across a site's pages: remember their verdicts.
_STRENGTHS: dict[str, int] = {}
_CACHE_SIZE = 50_000


def bound_depth(html: str | bytes) -> str | bytes:
    """Drop tags nested deeper than browsers build, keeping their text.

    Bytes are UTF-8 (see charset.parser_input); a page with many tags is decoded to check it.
    """
    if isinstance(html, bytes):
        if html.count(b"<") < _GUARD_MIN_TAGS:
            return html
        html = html.decode("utf-8", errors="replace")
    if html.count("<") < _GUARD_MIN_TAGS:
        return html
    depth = 0
    deepest = 0
    for m in _TAG.finditer(html):
        name = m.group(2).lower()
        if name in _NO_DEPTH or m.group(0).endswith("/>"):
            continue
        depth = max(depth - 1, 0) if m.group(1) else depth + 1
        deepest = max(deepest, depth)
    if deepest <= _MAX_DEPTH:
        return html
    out: list[str] = []
    skipped: dict[str, int] = {}
    last = 0
    depth = 0
    for m in _TAG.finditer(html):
        name = m.group(2).lower()
        if name in _NO_DEPTH or m.group(0).endswith("/>"):
            continue
        drop = False
        if m.group(1):
            if skipped.get(name):
                skipped[name] -= 1
                drop = True
            else:
                depth = max(depth - 1, 0)
        elif depth >= _MAX_DEPTH:
            skipped[name] = skipped.get(name, 0) + 1
            drop = True
        else:
            depth += 1
        if drop:
            out.append(html[last : m.start()])
            last = m.end()
    out.append(html[last:])
    return "".join(out)


def _value_strength(value: str) -> int:
    known = _STRENGTHS.get(value)
    if known is not None:
        return known
    strength = _NONE
    if not _ANY_PART.isdisjoint([p.lower() for p in _SPLIT_PARTS.split(value)]):
        for token in value.split():
            if token.lower() in _BOILER_TOKENS:
                strength = _STRONG
                break
            parts = {p.lower() for p in _SPLIT_PARTS.split(token) if p}
            named = parts & _STRONG_PARTS or parts & _WEAK_PARTS
            if not named and parts & _CONTENT_PARTS:
                strength = _NONE
                break
            if not named or parts & _STATE_PARTS:
                continue
            strength = max(strength, _STRONG if parts & _STRONG_PARTS else _WEAK)
    if len(_STRENGTHS) >= _CACHE_SIZE:
        _STRENGTHS.clear()
    _STRENGTHS[value] = strength
    return strength


def boilerplate_strength(attrs: dict[str, str | None]) -> int:
    """0 for an ordinary block, 1 for a weak boilerplate name (byline, tags), 2 for a strong one."""
    role = attrs.get("role")
    strength = _STRONG if role and role.lower() in _ROLES else _NONE
    for key in ("class", "id"):
        value = attrs.get(key)
        if value:
            known = _STRENGTHS.get(value)
            strength = max(strength, _value_strength(value) if known is None else known)
    return strength


def _is_hidden(attrs: dict[str, str | None]) -> bool:
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _is_protected(tag: str, attrs: dict[str, str | None]) -> bool:
    return (
        tag in _PROTECTED_TAGS
        or attrs.get("itemprop") == "articleBody"
        or attrs.get("role") == "main"
    )


def strip_invisible(tree: LexborHTMLParser) -> LexborNode | None:
    """Remove scripts, styles, embeds, controls and page chrome elements; return the body."""
    # recursive=False detaches a subtree in O(1); the document still owns its memory.
    tree.strip_tags(_DROP_TAGS, recursive=False)
    return tree.body


class Cleaner:
    """Which elements are boilerplate, asked element by element while the body is walked.

    Hidden elements, small forms, figures (images with captions and credits) and blocks whose
    class or id names boilerplate are skipped with their subtree; a block that holds most of
    the page's text is the page, whatever its class.
    """

    __slots__ = ("budget", "total")

    def __init__(self, body: LexborNode) -> None:
        self.total = len(body.text())
        # Measuring a candidate's text is O(its subtree); a budget keeps nesting linear.
        self.budget = 20 * self.total + 10_000

    def _smaller_than(self, node: LexborNode, share: float, default: bool) -> bool:
        if self.budget <= 0:
            return default
        size = len(node.text())
        self.budget -= size
        return size <= share * self.total

    def drops(self, node: LexborNode, tag: str) -> bool:
        """True when the element and everything in it is boilerplate."""
        if tag == "figure":
            return node.css_first("table, pre") is None
        attrs = node.attributes
        if tag == "form":
            # ASP.NET pages wrap the whole page in one <form>; only small forms are chrome.
            return self._smaller_than(node, _WRAPPER_SHARE, True)
        if not attrs:
            return False
        if ("hidden" in attrs or "aria-hidden" in attrs or "style" in attrs) and _is_hidden(attrs):
            return not _is_protected(tag, attrs)
        strength = boilerplate_strength(attrs)
        if strength == _NONE or _is_protected(tag, attrs):
            return False
        if tag == "article":  # an <article> named "newsletter-post" is still the article
            strength = _WEAK
        if strength == _STRONG:
            return self._smaller_than(node, _WRAPPER_SHARE, True)
        return self._smaller_than(node, _WEAK_SHARE, False)
