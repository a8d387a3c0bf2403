"""Main text and metadata of an article page: pure, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from app.services.extract._blocks import walk
from app.services.extract._clean import Cleaner, bound_depth, strip_invisible
from app.services.extract._meta import (
    PageMeta,
    choose_lang,
    clean_space,
    published_of,
    read_meta,
    strip_site_suffix,
    title_key,
)
from app.services.extract._select import container, join
from app.services.extract.charset import parser_input
from app.services.extract.lang import detect_lang


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
    source = parser_input(html[:_MAX_BYTES], content_type)[0] if isinstance(html, bytes) else html
    tree = LexborHTMLParser(bound_depth(source[:_MAX_BYTES]))
    page = read_meta(tree)
    site_name = page.meta.get("og:site_name") or page.jsonld_publisher
    heading = _first_heading(tree, site_name)
    time_values = _time_values(tree)
    body = strip_invisible(tree)
    title = _title(page, heading, url)
    titles = {title_key(t) for t in (title, heading, page.meta.get("og:title")) if t} - {""}
    text = ""
    if body is not None:
        blocks = walk(body, Cleaner(body).drops)
        text = join(blocks, container(tree, blocks), titles)
    canonical = page.canonical or page.meta.get("og:url")
    if canonical and url:
        canonical = urljoin(url, canonical)
    author = page.meta.get("author") or page.jsonld_author
    return ArticleText(
        title=title,
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
