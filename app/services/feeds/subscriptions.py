"""Feed subscriptions, and which feeds are due: each pull of a feed is taken by one puller.

A pull is a job (app/jobs.py): the feed-pull job fetches and parses the feed
(feed_pull.py) and creates one summarize job per new item, so items spread over the
workers and a pull cut short by a crash resumes like any job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import close_transaction, session_scope
from app.errors import Conflict, NotFound, problem_slug
from app.models import Feed, Job
from app.models.types import utcnow
from app.services.feeds.check import check_feed
from app.services.fetch.client import with_scheme
from app.services.jobs import FINISHED
from app.services.reports.sections import Section
from app.services.reports.urls import canonical_url

if TYPE_CHECKING:
    from app.services.pipeline import Tools

log = logging.getLogger("secdigest.feeds")


class FeedRequest(Protocol):
    """A feed to subscribe to, validated: the API's FeedCreate, which the CLI validates with too.

    A protocol, so that the service reads the request without knowing the API's schemas.
    """

    @property
    def url(self) -> str: ...

    @property
    def section(self) -> Section | None: ...

    @property
    def keywords(self) -> Sequence[str]: ...

    @property
    def url_patterns(self) -> Sequence[str]: ...

    @property
    def interval(self) -> int | None: ...


async def add_feed(
    session: AsyncSession,
    request: FeedRequest,
    *,
    default_interval: int,
    tools: Tools | None = None,
) -> Feed:
    """Subscribe to a feed (POST /feeds and `secdigest feeds add` alike), pulled every
    `request.interval` seconds or `default_interval`; Conflict when its canonical URL is
    already subscribed. A URL without a scheme is https (`example.com/feed`).

    With `tools` the feed is read once first: NotAFeed for a page that is neither RSS nor
    Atom, the fetch's problem for one that cannot be fetched; its title is kept.
    """
    # Refuses other schemes and credentials, as fetches do.
    key = canonical_url(with_scheme(request.url))
    title = None
    if tools is not None:
        existing = await session.scalar(select(Feed.id).where(Feed.url == key))
        if existing is not None:
            raise Conflict(f"{key} is already subscribed", feed_id=existing)
        await close_transaction(session)  # no transaction held across the fetch
        title = (await check_feed(tools, key)).title
    feed = Feed(
        url=key,
        title=title,
        section=request.section.value if request.section else None,
        keywords=[k.strip() for k in request.keywords if k.strip()],
        url_patterns=[p.strip() for p in request.url_patterns if p.strip()],
        interval=request.interval or default_interval,
        pulls=0,
        items_new=0,
        items_duplicate=0,
        items_filtered=0,
        items_failed=0,
        pull_failures=0,
    )
    try:
        async with session.begin_nested():
            session.add(feed)
    except IntegrityError:
        existing = await session.scalar(select(Feed.id).where(Feed.url == key))
        raise Conflict(f"{key} is already subscribed", feed_id=existing) from None
    return feed


async def list_feeds(session: AsyncSession) -> list[Feed]:
    """Every subscription, oldest first."""
    return list(await session.scalars(select(Feed).order_by(Feed.id)))


async def get_feed(session: AsyncSession, feed_id: int) -> Feed:
    """One subscription; NotFound when there is none with that id."""
    feed = await session.get(Feed, feed_id, populate_existing=True)
    if feed is None:
        raise NotFound(f"there is no feed {feed_id}")
    return feed


async def remove_feed(session: AsyncSession, feed_id: int) -> None:
    """Unsubscribe; the articles it brought stay in their reports."""
    await session.delete(await get_feed(session, feed_id))
    await session.flush()


async def claim_due_feeds(
    session: AsyncSession,
    *,
    ids: Sequence[int] | None = None,
    force: bool = False,
    now: datetime | None = None,
) -> list[int]:
    """The feeds a pull takes: due ones (all named ones with `force`), each taken once.

    Taking a feed moves its next pull one interval ahead in a conditional UPDATE: of two
    pullers (two workers on one schedule) exactly one finds it due.
    """
    now = now or utcnow()
    query = select(Feed.id, Feed.interval).order_by(Feed.id)
    if ids is not None:
        query = query.where(Feed.id.in_(ids))
    rows = [(row[0], row[1]) for row in await session.execute(query)]
    missing = sorted(set(ids or ()) - {feed_id for feed_id, _ in rows})
    if missing:
        raise NotFound(f"there is no feed {', '.join(map(str, missing))}", ids=missing)
    claimed: list[int] = []
    for feed_id, interval in rows:
        claim = update(Feed).where(Feed.id == feed_id)
        if not force:
            claim = claim.where(or_(Feed.next_pull_at.is_(None), Feed.next_pull_at <= now))
        outcome = await session.execute(
            claim.values(next_pull_at=now + timedelta(seconds=interval)),
            execution_options={"synchronize_session": False},
        )
        assert isinstance(outcome, CursorResult)
        if outcome.rowcount == 1:
            claimed.append(feed_id)
    return claimed


def pull_payload(feed_id: int, *, day: date, lang: str) -> dict[str, object]:
    """What a feed-pull job stores: the feed, and the report day and language of its items
    (decided when the pull is asked for, whenever it runs)."""
    return {"feed_id": feed_id, "date": day.isoformat(), "lang": lang}


async def note_item_failure(
    session: AsyncSession, feed_id: int, *, url: str, problem: dict[str, object], retry: bool
) -> None:
    """An item job of the feed failed: count it, show it as the feed's last error, and,
    when another try may succeed, make the next pull unconditional (a 304 would hide the
    item from the retry)."""
    kind = problem_slug(problem)
    values: dict[str, Any] = {
        # Counted in SQL: item jobs of one feed fail at once in several workers.
        "items_failed": Feed.items_failed + 1,
        "last_error": f"item {url}: {kind}: {problem.get('detail', '')}"[:2000],
    }
    if retry:
        values |= {"etag": None, "last_modified": None}
    await session.execute(update(Feed).where(Feed.id == feed_id).values(**values))


class PullProgress(Protocol):
    """Told of a pull's work as it is found and done (the CLI's progress bar)."""

    def add(self, units: int) -> None: ...

    def advance(self) -> None: ...


@dataclass(slots=True)
class PullTally:
    """What a pull of several feeds came to, once every job it made has finished."""

    feeds: int = 0
    new: int = 0
    duplicates: int = 0
    filtered: int = 0
    failures: int = 0
    model_calls: int = 0
    seconds: float = 0.0
    # The problems behind `failures`: (feed or item URL, problem).
    problems: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def line(self) -> str:
        """The one-line summary the CLI ends with."""
        return (
            f"feeds={self.feeds} new={self.new} duplicates={self.duplicates} "
            f"filtered={self.filtered} failures={self.failures} "
            f"model_calls={self.model_calls} seconds={self.seconds:.1f}"
        )

    def count_feed(self, job: Job) -> list[str]:
        """Count a finished feed-pull job; the item jobs it queued."""
        result = job.result or {}
        if job.problem is not None or result.get("status") == "failed":
            self.failures += 1
            self.problems.append(
                (result.get("url", ""), result.get("problem") or job.problem or {})
            )
            return []
        self.duplicates += int(result.get("duplicates", 0))
        self.filtered += int(result.get("filtered", 0))
        for failed in result.get("failed_items", []):
            self.failures += 1
            self.problems.append((failed["url"], failed["problem"]))
        return list(result.get("item_jobs", []))

    def count_item(self, job: Job) -> None:
        """Count a finished summarize job of a feed item."""
        if job.problem is not None:
            self.failures += 1
            self.problems.append((job.payload["request"].get("url", ""), job.problem))
            return
        result = job.result or {}
        if result.get("cached"):
            self.duplicates += 1  # stored meanwhile by another path (POST /summarize)
            return
        self.new += 1
        if result.get("engine") == "llm" and not result.get("summary_reused"):
            self.model_calls += 1


async def follow_pulls(
    sessionmaker: async_sessionmaker[AsyncSession],
    feed_jobs: Sequence[str],
    *,
    progress: PullProgress | None = None,
    poll: float = 0.2,
) -> PullTally:
    """Wait for feed-pull jobs and the item jobs they queue, whoever runs them."""
    started = time.perf_counter()
    tally = PullTally(feeds=len(feed_jobs))
    waiting, feed_ids = set(feed_jobs), set(feed_jobs)
    if progress is not None:
        progress.add(len(feed_jobs))
    while waiting:
        async with session_scope(sessionmaker) as session:
            done = list(
                await session.scalars(
                    select(Job).where(Job.id.in_(list(waiting)), Job.status.in_(FINISHED))
                )
            )
        for job in done:
            waiting.discard(job.id)
            if job.id in feed_ids:
                items = tally.count_feed(job)
                waiting.update(items)
                if progress is not None:
                    progress.add(len(items))
            else:
                tally.count_item(job)
            if progress is not None:
                progress.advance()
        if waiting:
            await asyncio.sleep(poll)
    tally.seconds = time.perf_counter() - started
    return tally
