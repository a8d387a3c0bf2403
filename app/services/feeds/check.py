"""A feed read once before it is subscribed to (POST /feeds), so that a page that is no feed
is refused at once rather than at its first pull. Nothing is stored: the first pull still
takes every item (its validators are not kept, so that pull is not a 304)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from app.errors import NotAFeed, NotAnArticle
from app.services.feeds.parse import ParsedFeed, parse_feed
from app.services.fetch import FetchedPage, fetch_page

if TYPE_CHECKING:
    from app.services.pipeline import Tools

# What a feed fetch asks for; anything readable is still taken (servers mislabel feeds).
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


async def fetch_feed(tools: Tools, url: str, headers: dict[str, str] | None = None) -> FetchedPage:
    """GET a feed within the fetch bounds (`headers` add validators to the Accept)."""
    async with tools.limits.fetch(url):
        return await fetch_page(
            tools.http,
            tools.fetch_policy,
            url=url,
            headers={"Accept": FEED_ACCEPT, **(headers or {})},
        )


async def check_feed(tools: Tools, url: str) -> ParsedFeed:
    """Fetch and parse a feed: NotAFeed when the answer is neither RSS nor Atom (an image
    or an archive too); the fetch's own problems (blocked, failed, timeout) as they are."""
    try:
        page = await fetch_feed(tools, url)
    except NotAnArticle as exc:  # a type the fetch refuses to read (image/png...)
        raise NotAFeed(f"no RSS or Atom in the answer from {url}: {exc.detail}") from exc
    return await asyncio.to_thread(
        parse_feed, page.body, url=page.final_url, content_type=page.content_type
    )
