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
]  # fmt: skip
# Class/id words of boilerplate. Tokens are split into parts ("post-comments" -> post, comments;
# "shareButtons" -> share, buttons) and a part must equal a word, so "entry-content",
# "headline" and "shadow" are never mistaken for "ad" or "header".
_BOILER_PARTS = frozenset({
    "comment", "comments", "commentlist", "disqus", "respond", "sidebar", "related", "share",
    "sharing", "sharedaddy", "social", "newsletter", "subscribe", "subscription", "cookie",
    "cookies", "consent", "gdpr", "advert", "adverts", "advertisement", "advertising", "ad",
    "ads", "adsense", "adslot", "breadcrumb", "breadcrumbs", "menu", "popup", "modal", "promo",
    "promos", "footer", "nav", "navbar", "navigation", "pagination", "pager", "masthead"
})  # fmt: skip
_BOILER_TOKENS = frozenset(
    ["header", "site-header", "sr-only", "screen-reader-text", "visually-hidden", "visuallyhidden"]
)
# Parts that describe a layout state, not a block: "has-sidebar", "content-sidebar-wrap",
# "comments-open" sit on the wrappers that hold the article itself.
_STATE_PARTS = frozenset({
    "has", "no", "with", "without", "is", "open", "opened", "enabled", "active", "layout",
    "wrap", "wrapper", "container", "template", "body"
})  # fmt: skip
_PREFILTER = ",".join(
    f'[class*="{w}" i],[id*="{w}" i]'
    for w in [
        "comment",
        "disqus",
        "respond",
        "sidebar",
        "related",
        "shar",
        "social",
        "newsletter",
        "subscri",
        "cookie",
        "consent",
        "gdpr",
        "ad",
        "breadcrumb",
        "menu",
        "popup",
        "modal",
        "promo",
        "footer",
        "nav",
        "pag",
        "masthead",
        "header",
        "sr-only",
        "screen-reader",
        "visually",
    ]
)
_HIDDEN = '[hidden],[aria-hidden="true"],[style*="none" i],[style*="hidden" i]'
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPLIT_PARTS = re.compile(r"[-_\s]+|(?<=[a-z])(?=[A-Z])")
_PROTECTED_TAGS = frozenset({"html", "body", "main"})
# A block that holds more than this share of the page's text is the page, whatever its class.
_WRAPPER_SHARE = 0.6


def bound_depth(html: str) -> str:
    """Drop tags nested deeper than browsers build, keeping their text."""
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


def _is_boilerplate(attrs: dict[str, str | None]) -> bool:
    for value in (attrs.get("class"), attrs.get("id")):
        if not value:
            continue
        for token in value.split():
            if token.lower() in _BOILER_TOKENS:
                return True
            parts = {p.lower() for p in _SPLIT_PARTS.split(token) if p}
            if parts & _BOILER_PARTS and not parts & _STATE_PARTS:
                return True
    return False


def _is_hidden(attrs: dict[str, str | None]) -> bool:
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return True
    return bool(_HIDDEN_STYLE.search(attrs.get("style") or ""))


def _is_protected(node: LexborNode, attrs: dict[str, str | None]) -> bool:
    return (
        node.tag in _PROTECTED_TAGS
        or attrs.get("itemprop") == "articleBody"
        or attrs.get("role") == "main"
    )


def clean_tree(tree: LexborHTMLParser) -> None:
    """Remove scripts, chrome, hidden blocks and boilerplate blocks from the tree, in place."""
    # recursive=False detaches a subtree in O(1); the document still owns its memory.
    tree.strip_tags(_DROP_TAGS, recursive=False)
    body = tree.body
    if body is None:
        return
    total = len(body.text())
    for form in body.css("form"):
        # ASP.NET pages wrap the whole page in one <form>; only small forms are chrome.
        if len(form.text()) < _WRAPPER_SHARE * total:
            form.decompose(recursive=False)
    for node in body.css(_HIDDEN):
        attrs = node.attributes
        if _is_hidden(attrs) and not _is_protected(node, attrs):
            node.decompose(recursive=False)
    # Measuring a candidate's text is O(its subtree); a budget keeps nested candidates linear.
    budget = 20 * total + 10_000
    for node in body.css(_PREFILTER):
        attrs = node.attributes
        if not _is_boilerplate(attrs) or _is_protected(node, attrs):
            continue
        if budget > 0:
            size = len(node.text())
            budget -= size
            if size > _WRAPPER_SHARE * total:
                continue
        node.decompose(recursive=False)
