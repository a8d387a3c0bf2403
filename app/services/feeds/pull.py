"""One pull of one feed: fetch (conditional GET), parse, filter, and a summarize job for
each new item. The items' work is done by those jobs, wherever the queue runs them.

Everything a pull writes (the item jobs and the feed row's counts and validators) is
committed together: a pull cut short by a crash leaves nothing half-written, and its job
runs again; the items it had already created are found by their keyed job ids.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import close_transaction
from app.errors import FetchFailed, FetchTimeout, SecdigestError, problem_dict, problem_slug
from app.models import Article, Feed, Job
from app.models.types import utcnow
from app.services import jobs, pipeline
from app.services.feeds.check import fetch_feed
from app.services.feeds.parse import EntryFilter, FeedEntry, ParsedFeed, parse_feed
from app.services.fetch import FetchedPage
from app.services.reports.urls import canonical_url

log = logging.getLogger("secdigest.feeds")

SUMMARIZE = "summarize"  # the kind of the item jobs: the same job as POST /summarize


@dataclass(slots=True)
class FeedPullOutcome:
    """How one feed's pull went; stored as the feed-pull job's result."""

    feed_id: int
    url: str
    status: Literal["pulled", "not_modified", "failed"] = "pulled"
    entries: int = 0
    filtered: int = 0
    duplicates: int = 0
    # Summarize jobs created (or failed ones put back) by this pull, to be enqueued.
    item_jobs: list[str] = field(default_factory=list)
    # Items refused before any job (a link that is not a valid http(s) URL).
    failed_items: list[dict[str, Any]] = field(default_factory=list)
    problem: dict[str, Any] | None = None

    def as_result(self) -> dict[str, Any]:
        """The JSON of the feed-pull job's result."""
        return {
            "feed_id": self.feed_id,
            "url": self.url,
            "status": self.status,
            "entries": self.entries,
            "filtered": self.filtered,
            "duplicates": self.duplicates,
            "item_jobs": list(self.item_jobs),
            "failed_items": list(self.failed_items),
            "problem": self.problem,
        }


def retryable(problem: dict[str, Any] | None) -> bool:
    """Whether a failed item is worth another try at the next pull: the site or the model
    may answer then. A refused address, a 404 or a page without an article will not."""
    if not problem:
        return False
    kind = problem_slug(problem)
    if kind == FetchTimeout.slug:
        return True
    if kind == FetchFailed.slug:
        status = problem.get("upstream_status")
        return status is None or int(status) == 429 or int(status) >= 500
    return int(problem.get("status", 500)) >= 500 and kind != "fetch-too-large"


def item_payload(
    url: str, *, feed_id: int, day: date, lang: str, section: str | None
) -> dict[str, Any]:
    """A summarize job's payload for a feed item (the request POST /summarize would take)."""
    request: dict[str, Any] = {"url": url, "date": day.isoformat(), "lang": lang}
    if section:
        request["section"] = section
    return {"request": request, "feed_id": feed_id}


async def _fetch(tools: pipeline.Tools, feed: Feed) -> FetchedPage:
    headers = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    return await fetch_feed(tools, feed.url, headers)


async def pull_feed(
    session: AsyncSession, tools: pipeline.Tools, *, feed_id: int, day: date, lang: str
) -> FeedPullOutcome | None:
    """Pull one feed into `day`'s report; None if the feed was removed meanwhile.

    The caller commits, then enqueues `item_jobs`.
    """
    feed = await session.get(Feed, feed_id, populate_existing=True)
    if feed is None:
        return None
    outcome = FeedPullOutcome(feed.id, feed.url)
    page: FetchedPage | None = None
    parsed: ParsedFeed | None = None
    await close_transaction(session)  # no transaction held across the fetch
    try:
        page = await _fetch(tools, feed)
        if page.not_modified:
            outcome.status = "not_modified"
        else:
            parsed = await asyncio.to_thread(
                parse_feed, page.body, url=page.final_url, content_type=page.content_type
            )
    except SecdigestError as exc:
        outcome.status, outcome.problem = "failed", problem_dict(exc)
        log.info("feed.failed id=%s problem=%s", feed_id, exc.slug)
    feed = await session.get(Feed, feed_id, populate_existing=True)
    if feed is None:
        return None
    if parsed is not None:
        await _items(session, feed, parsed, outcome, day=day, lang=lang)
    _record(feed, outcome, page, parsed)
    log.info(
        "feed.pulled id=%s status=%s entries=%d new=%d duplicates=%d filtered=%d",
        feed_id,
        outcome.status,
        outcome.entries,
        len(outcome.item_jobs),
        outcome.duplicates,
        outcome.filtered,
    )
    return outcome


async def _items(
    session: AsyncSession,
    feed: Feed,
    parsed: ParsedFeed,
    outcome: FeedPullOutcome,
    *,
    day: date,
    lang: str,
) -> None:
    entry_filter = EntryFilter.of(feed.keywords, feed.url_patterns)
    outcome.entries = len(parsed.entries) + parsed.unlinked
    outcome.filtered = parsed.unlinked
    wanted: dict[str, FeedEntry] = {}
    for entry in parsed.entries:
        if not entry_filter.accepts(entry):
            outcome.filtered += 1
            continue
        try:
            key = canonical_url(entry.link)
        except SecdigestError as exc:
            outcome.failed_items.append({"url": entry.link, "problem": problem_dict(exc)})
            continue
        if key in wanted:
            outcome.duplicates += 1  # the same article twice in one feed
            continue
        wanted[key] = entry
    stored = set(await session.scalars(select(Article.url).where(Article.url.in_(list(wanted)))))
    for key, entry in wanted.items():
        if key in stored:
            outcome.duplicates += 1
            continue
        job_id = jobs.keyed_job_id(key)
        payload = item_payload(
            entry.link, feed_id=feed.id, day=day, lang=lang, section=feed.section
        )
        created = await jobs.create_job_once(session, job_id, kind=SUMMARIZE, payload=payload)
        if created or await _retry(session, job_id, payload):
            outcome.item_jobs.append(job_id)
        else:
            outcome.duplicates += 1  # queued, running, or done by an earlier pull


async def _retry(session: AsyncSession, job_id: str, payload: dict[str, Any]) -> bool:
    # An item whose job failed for a passing reason (timeout, 5xx) is tried again.
    problem = await session.scalar(select(Job.problem).where(Job.id == job_id))
    if not retryable(problem):
        return False
    return await jobs.retry_failed_job(session, job_id, payload=payload)


# A failed pull is tried again after a minute, then two, four... up to the feed's interval.
FIRST_RETRY_SECONDS = 60


def retry_delay(failures: int, interval: int) -> int:
    """Seconds until the next try of a feed after `failures` failed pulls in a row."""
    doubled: int = FIRST_RETRY_SECONDS << min(max(failures - 1, 0), 30)
    return min(doubled, interval)


def _record(
    feed: Feed, outcome: FeedPullOutcome, page: FetchedPage | None, parsed: ParsedFeed | None
) -> None:
    """Write how the pull went onto the feed row."""
    if outcome.status == "failed":
        # The claim put the next pull one interval ahead; a failure (the site down, a
        # broken feed) is tried sooner, backing off: one failed pull in a row, a minute.
        feed.pull_failures = (feed.pull_failures or 0) + 1
        feed.next_pull_at = utcnow() + timedelta(
            seconds=retry_delay(feed.pull_failures, feed.interval)
        )
    else:
        feed.pull_failures = 0
    # Counters are added to in SQL: item jobs of earlier pulls may count failures meanwhile.
    feed.pulls = Feed.pulls + 1
    feed.last_pulled_at = utcnow()
    feed.items_new = Feed.items_new + len(outcome.item_jobs)
    feed.items_duplicate = Feed.items_duplicate + outcome.duplicates
    feed.items_filtered = Feed.items_filtered + outcome.filtered
    feed.items_failed = Feed.items_failed + len(outcome.failed_items)
    if parsed is not None and parsed.title:
        feed.title = parsed.title[:1000]
    problem = outcome.problem or (
        outcome.failed_items[-1]["problem"] if outcome.failed_items else None
    )
    feed.last_error = (
        None if problem is None else f"{problem_slug(problem)}: {problem.get('detail', '')}"[:2000]
    )
    if page is not None and outcome.status != "failed":
        # A 304 may carry fresher validators; otherwise the stored ones stay.
        feed.etag = page.etag or (feed.etag if page.not_modified else None)
        feed.last_modified = page.last_modified or (
            feed.last_modified if page.not_modified else None
        )
