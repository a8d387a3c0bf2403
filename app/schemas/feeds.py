"""Feed subscriptions and pull results as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.schemas.ids import RowId
from app.services.feeds import PullTally
from app.services.reports.sections import Section

MIN_INTERVAL = 60
MAX_INTERVAL = 30 * 24 * 3600

Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
UrlPattern = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class FeedCreate(BaseModel):
    """A feed to subscribe to, where its items go, and which of them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "https://www.bleepingcomputer.com/feed/"},
                {
                    "url": "https://www.security-next.com/feed",
                    "section": "japan_incidents",
                    "keywords": ["不正アクセス", "ランサムウェア", "漏えい"],
                    "interval": 1800,
                },
                {
                    "url": "https://research.example.com/atom.xml",
                    "section": "security_report",
                    "url_patterns": ["/research/*"],
                },
            ]
        },
    )

    url: str = Field(max_length=2048, description="RSS (0.9x, 1.0, 2.0) or Atom feed URL.")
    section: Section | None = Field(
        None,
        description="Report section of every item; unset, the summary engine picks one per "
        "article. Items in japan_incidents and memos are link lines in the Markdown.",
    )
    keywords: list[Keyword] = Field(
        default_factory=list,
        max_length=50,
        description="Keep an item only if its title or summary contains one of these "
        "(case and full-width letters ignored). Empty: every item.",
    )
    url_patterns: list[UrlPattern] = Field(
        default_factory=list,
        max_length=50,
        description="Keep an item only if its URL matches one of these globs (`*`, `?`, "
        "`[abc]`); a pattern starting with `/` matches the path, any other the whole URL.",
    )
    interval: int | None = Field(
        None,
        ge=MIN_INTERVAL,
        le=MAX_INTERVAL,
        description="Seconds between scheduled pulls (default SECDIGEST_FEED_INTERVAL).",
    )


class FeedRead(BaseModel):
    """A subscription and how its pulls went."""

    # FeedRead.model_validate(feed_row): the fields are the Feed row's columns, by name;
    # `section` turns its string back into the Section it was stored from. (The docstring
    # is the API's description of the schema, so how it is built is said here.)
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    title: str | None = Field(description="As the feed names itself (after a pull).")
    section: Section | None
    keywords: list[str]
    url_patterns: list[str]
    interval: int
    etag: str | None = Field(description="Validator sent back as If-None-Match.")
    last_modified: str | None = Field(description="Validator sent back as If-Modified-Since.")
    last_pulled_at: dt.datetime | None
    next_pull_at: dt.datetime | None = Field(
        description="When it is due (null: now); after a failed pull, the next try: a minute "
        "after the first failure, doubling with each, at most the interval."
    )
    pull_failures: int = Field(description="Pulls that failed in a row (0 after a good one).")
    last_error: str | None = Field(description="Problem of the last pull, if any.")
    pulls: int
    items_new: int = Field(description="Items summarized into a report, over every pull.")
    items_duplicate: int = Field(description="Items already stored, over every pull.")
    items_filtered: int = Field(description="Items left out by the filters (or linkless).")
    items_failed: int
    created_at: dt.datetime


class FeedListRead(BaseModel):
    """Every subscription."""

    feeds: list[FeedRead]


class FeedPullRequest(BaseModel):
    """Which feeds to pull; no body pulls every due feed."""

    model_config = ConfigDict(extra="forbid")

    ids: list[RowId] | None = Field(
        None, min_length=1, max_length=1000, description="Only these feeds (404 if unknown)."
    )
    force: bool = Field(False, description="Pull even if the interval has not passed.")


class PullStarted(BaseModel):
    """A feed-pull job queued for one feed."""

    feed_id: int
    job_id: str
    location: str = Field(description="Poll it: its result lists the item jobs it queued.")


class PullsStarted(BaseModel):
    """The pulls queued (202): one job per due (or named) feed."""

    pulls: list[PullStarted]


class PullProblem(BaseModel):
    """A feed that could not be read, or an item that failed."""

    url: str
    problem: dict[str, Any]


class PullTallyRead(BaseModel):
    """What a pull came to once its jobs finished (`?wait=N`)."""

    feeds: int = Field(description="Feeds pulled (due, or named).")
    new: int = Field(description="Items summarized and placed in the report.")
    duplicates: int = Field(description="Items already stored or queued: not placed again.")
    filtered: int = Field(description="Items left out by the filters (or without a link).")
    failures: int = Field(description="Failed items, and feeds that could not be read.")
    model_calls: int = Field(description="Summaries written by the model (not reused).")
    seconds: float
    problems: list[PullProblem]


def pull_tally_read(tally: PullTally) -> PullTallyRead:
    """Shape a finished pull."""
    return PullTallyRead(
        feeds=tally.feeds,
        new=tally.new,
        duplicates=tally.duplicates,
        filtered=tally.filtered,
        failures=tally.failures,
        model_calls=tally.model_calls,
        seconds=round(tally.seconds, 3),
        problems=[PullProblem(url=url, problem=problem) for url, problem in tally.problems],
    )
