"""A URL fetched and read: the article's text, or why there is none (a feed is no article).

A feed sent to be summarized is refused with what to do instead (subscribe to it): read as
a page it would become one "article" of its channel's text. It is told by its media type
or its first element, then confirmed by the feeds' own parser.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from app.errors import NotAFeed, NotAnArticle
from app.services.extract import ArticleText, extract_article, extract_pdf, looks_like_pdf
from app.services.feeds.parse import parse_feed
from app.services.fetch import FetchedPage, fetch_page

if TYPE_CHECKING:
    from app.services.pipeline.run import Tools

# Types feeds are served as; XHTML pages are not among them (nor is text/html).
_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
# A feed served as anything else (text/html, text/plain): its first element says so.
_FEED_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*>\s*|<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)[\s>]",
    re.DOTALL,
)


async def read_url(tools: Tools, url: str) -> tuple[FetchedPage, ArticleText]:
    """Fetch a URL (within the fetch bounds) and extract its article."""
    async with tools.limits.fetch(url):
        page = await fetch_page(tools.http, tools.fetch_policy, url=url)
    if looks_like_pdf(page.body, page.content_type):
        return page, await asyncio.to_thread(extract_pdf, page.body, page.final_url)
    if await is_feed(page):
        raise NotAnArticle("this is a feed: subscribe with POST /feeds", feed_url=page.final_url)
    return page, extract_article(page.body, page.final_url, content_type=page.content_type)


async def is_feed(page: FetchedPage) -> bool:
    """Whether the page is an RSS or Atom feed (its parser reads entries or a version)."""
    if page.media_type not in _FEED_TYPES and not _FEED_START.match(page.body[:4096]):
        return False
    try:
        await asyncio.to_thread(
            parse_feed, page.body, url=page.final_url, content_type=page.content_type
        )
    except NotAFeed:
        return False
    return True
