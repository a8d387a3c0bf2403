"""RSS and Atom subscriptions: what is subscribed, pulling a feed, reading its XML.

Public surface:
- `subscriptions`: `add_feed` (of a `FeedRequest`), `list_feeds`, `get_feed`, `remove_feed`,
  `claim_due_feeds`, `pull_payload`, `note_item_failure`, `follow_pulls`, `PullTally`,
  `PullProgress` (re-exported here: `feeds.add_feed(...)`)
- `pull`: `pull_feed(...)` (one feed: fetch, parse, filter, a summarize job per new item)
- `parse`: `parse_feed(bytes, url=)`, `EntryFilter`, `strip_declarations` (pure, safe XML)
- `check`: `check_feed(tools, url)` (a feed read once, before `add_feed` subscribes to it),
  `fetch_feed`, `FEED_ACCEPT`
"""

from app.services.feeds.subscriptions import (
    FeedRequest,
    PullProgress,
    PullTally,
    add_feed,
    claim_due_feeds,
    follow_pulls,
    get_feed,
    list_feeds,
    note_item_failure,
    pull_payload,
    remove_feed,
)

__all__ = [
    "FeedRequest",
    "PullProgress",
    "PullTally",
    "add_feed",
    "claim_due_feeds",
    "follow_pulls",
    "get_feed",
    "list_feeds",
    "note_item_failure",
    "pull_payload",
    "remove_feed",
]
