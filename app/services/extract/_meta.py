"""Metadata of an article page: meta tags, JSON-LD, dates, title clean-up, language."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from app.services.extract.lang import detect_lang

_PUBLISHED_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "dcterms.date",
    "sailthru.date",
    "parsely-pub-date",
)
_JSONLD_MAX_CHARS = 200_000
_JSONLD_MAX_NODES = 2_000
# Dates as sites print them: ISO 8601 and its relatives, "2024/12/05", "2024年12月5日 10時30分".
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s*[T\s]|\s*(?:\([^)]{1,3}\)|（[^）]{1,3}）)\s*)\s*"
    r"(\d{1,2})\s*[:時]\s*(\d{2})(?:\s*[:分]\s*(\d{2})(?:[.,]\d+)?)?\s*秒?)?"
    r"\s*(Z|UTC|GMT|JST|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»«]{1,2}\s+|\s*[｜|]\s*")
_ALNUM = re.compile(r"[\W_]+")


@dataclass(slots=True)
class PageMeta:
    """What the head and JSON-LD of a page say about it."""

    meta: dict[str, str] = field(default_factory=dict)
    jsonld_published: str | None = None
    jsonld_author: str | None = None
    jsonld_publisher: str | None = None
    jsonld_headline: str | None = None
    title_tag: str | None = None
    canonical: str | None = None
    html_lang: str | None = None


def read_meta(tree: LexborHTMLParser) -> PageMeta:
    """Collect meta tags (first value wins), JSON-LD facts, <title>, canonical and <html lang>."""
    page = PageMeta()
    for node in tree.css("meta[content]"):
        attrs = node.attributes
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
        value = attrs.get("content")
        if key and value and value.strip():
            page.meta.setdefault(key.strip().lower(), value.strip())
    # Microdata outside <meta>: <time itemprop="datePublished" datetime="...">.
    if "datepublished" not in page.meta:
        stamp = tree.css_first('[itemprop="datePublished"]')
        if stamp is not None:
            attrs = stamp.attributes
            value = attrs.get("datetime") or attrs.get("content") or stamp.text()
            if value and value.strip():
                page.meta["datepublished"] = value.strip()
    for node in tree.css('script[type="application/ld+json"]'):
        _read_jsonld(node.text(), page)
    title = tree.css_first("title")
    if title is not None:
        page.title_tag = clean_space(title.text()) or None
    link = tree.css_first('link[rel="canonical"][href]')
    if link is not None:
        page.canonical = (link.attributes.get("href") or "").strip() or None
    root = tree.css_first("html")
    if root is not None:
        page.html_lang = normalise_lang(root.attributes.get("lang") or "")
    return page


def _iter_objects(data: Any) -> Iterator[dict[str, Any]]:
    """Dicts in a JSON-LD document, breadth first and bounded (a @graph can be large)."""
    queue: list[Any] = [data]
    seen = 0
    while queue and seen < _JSONLD_MAX_NODES:
        item = queue.pop(0)
        seen += 1
        if isinstance(item, list):
            queue.extend(item)
        elif isinstance(item, dict):
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list):
                queue.extend(graph)
            main = item.get("mainEntity")
            if isinstance(main, dict | list):
                queue.append(main)


def _name_of(value: Any) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_name_of(v) for v in value[:5]) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        value = value.get("name")
    return value.strip() or None if isinstance(value, str) else None


def _read_jsonld(raw: str, page: PageMeta) -> None:
    if len(raw) > _JSONLD_MAX_CHARS:
        return
    try:
        data = json.loads(raw)
    except ValueError:
        return
    for obj in _iter_objects(data):
        published = obj.get("datePublished") or obj.get("dateCreated")
        if page.jsonld_published is None and isinstance(published, str):
            page.jsonld_published = published
        if page.jsonld_author is None and "author" in obj:
            page.jsonld_author = _name_of(obj["author"])
        if page.jsonld_publisher is None and "publisher" in obj:
            page.jsonld_publisher = _name_of(obj["publisher"])
        if page.jsonld_headline is None and isinstance(obj.get("headline"), str):
            page.jsonld_headline = clean_space(obj["headline"]) or None


def clean_space(text: str) -> str:
    """Collapse runs of whitespace to one space and strip."""
    return " ".join(text.split())


def normalise_lang(value: str) -> str | None:
    """'ja-JP' -> 'ja', 'en_US' -> 'en'; None for anything that is not a language tag."""
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def choose_lang(declared: str | None, text: str) -> str | None:
    """The page's declared language, unless its script plainly says otherwise."""
    detected = detect_lang(text) if text else None
    if declared is None:
        return detected
    cjk = {"ja", "zh", "ko"}
    # Templates often keep lang="en" on Japanese pages; Latin script can't tell de from en.
    if detected and detected != declared and (detected in cjk or declared in cjk):
        return detected
    return declared


def parse_date(value: str | None) -> datetime | None:
    """ISO 8601 (with 'Z'), '2024/12/05', '2024年12月5日 10:30' and the like; tz-aware if zoned."""
    if not value:
        return None
    value = value.strip()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    m = _DATE.search(value)
    if m is None:
        return None
    year, month, day, hour, minute, second, zone = m.groups()
    tz: timezone | None = None
    if zone:
        zone = zone.upper()
        if zone in {"Z", "UTC", "GMT"}:
            tz = UTC
        elif zone == "JST":
            tz = timezone(timedelta(hours=9))
        else:
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None


def published_of(page: PageMeta, time_values: list[str]) -> datetime | None:
    """Publication time from meta tags, then JSON-LD, then <time datetime> values."""
    candidates = [page.meta.get(key) for key in _PUBLISHED_KEYS]
    candidates += [page.jsonld_published, *time_values]
    for value in candidates:
        parsed = parse_date(value)
        if parsed is not None and 1990 <= parsed.year <= 2100:
            return parsed
    return None


def title_key(text: str) -> str:
    """Letters and digits of a title, lowercased: what two spellings of one headline share."""
    return _ALNUM.sub("", text.lower())


def strip_site_suffix(title: str, site_name: str | None, host: str | None) -> str:
    """Drop " | Site", " - Site", "｜Site" (or "Site | ") when that part names the site."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    names = {title_key(site_name)} if site_name else set()
    if host:
        labels = host.lower().removeprefix("www.").split(".")
        names.add(title_key(labels[0]))
        names.add(title_key(".".join(labels)))
    names.discard("")

    def is_site(part: str) -> bool:
        key = title_key(part)
        if not key:
            return False
        return any(key == n or (len(n) >= 4 and (n in key or key in n)) for n in names)

    for edge in (-1, 0):
        if is_site(parts[edge]):
            # Cut at the separator that precedes (or follows) the site part, keep the rest.
            matches = list(_TITLE_SEPARATORS.finditer(title))
            cut = matches[edge]
            rest = title[: cut.start()] if edge == -1 else title[cut.end() :]
            if len(rest.strip()) >= 4:
                return rest.strip()
    return title
