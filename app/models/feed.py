"""Feed subscriptions: where to pull, where the items go, and how the last pulls went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import JsonType, UtcDateTime, utcnow


class Feed(Base):
    """An RSS or Atom feed whose new items are summarized into the day's report."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Canonical form (as articles are keyed): the same feed cannot be subscribed twice.
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(Text)  # as the feed names itself
    # The report section of every item; None lets the summary engine choose per article.
    section: Mapped[str | None] = mapped_column(String(32))
    keywords: Mapped[list[str]] = mapped_column(JsonType, default=list)
    url_patterns: Mapped[list[str]] = mapped_column(JsonType, default=list)
    interval: Mapped[int] = mapped_column(Integer)  # seconds between scheduled pulls
    # Validators of the last complete pull, sent back as If-None-Match / If-Modified-Since.
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    # Set when a pull claims the feed: a second puller (another worker) sees it not due;
    # after a failed pull, the time of the next try (sooner than the interval: backoff).
    next_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    # Pulls that failed in a row (the feed could not be fetched or read); 0 after a good one.
    pull_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_pulled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Totals over every pull, for `feeds list` and GET /feeds.
    pulls: Mapped[int] = mapped_column(Integer, default=0)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    items_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    items_filtered: Mapped[int] = mapped_column(Integer, default=0)
    items_failed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
