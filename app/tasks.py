"""The job queue: taskiq, with the in-process broker as the embedded default.

The queue carries job ids only; the job's request, state and answer live in the database
(app/services/jobs.py). A task is an entry point like a route: it loads the job, calls the
pipeline, stores the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends

from app.db import session_scope
from app.errors import NotFound, SecdigestError, problem_dict
from app.models.types import utcnow
from app.schemas.summarize import SummarizeRequest, submission_of, summarize_response
from app.services import enrich, feeds, jobs, pipeline
from app.services.delivery import events as delivery_events
from app.services.delivery import publish as delivery
from app.services.delivery import send
from app.services.feeds import pull as feed_pull
from app.services.reports import today
from app.settings import get_settings
from app.state import AppState

log = logging.getLogger("secdigest.jobs")

SUMMARIZE = feed_pull.SUMMARIZE  # POST /summarize?async=true, and each new feed item
FEED_PULL = "feed_pull"  # one pull of one feed: fetch, parse, a summarize job per new item


def make_broker(broker_url: str | None, queue: str = "secdigest:jobs") -> AsyncBroker:
    """In-process by default; Redis (taskiq-redis) for worker processes. The tasks and the
    code around them are the same either way."""
    if broker_url:
        from taskiq_redis import ListQueueBroker  # noqa: PLC0415 - only at scale

        return ListQueueBroker(broker_url, queue_name=queue)
    return InMemoryBroker(max_async_tasks=100)


# Built at import: `taskiq`-style workers find the broker as a module attribute.
broker = make_broker(get_settings().broker_url, get_settings().broker_queue)


def summarize_payload(body: SummarizeRequest, *, lang: str, day: Any) -> dict[str, Any]:
    """What a summarize job stores: the request with its language and day decided now
    (an article goes into the report of the day it was submitted, whenever it runs)."""
    fixed = body.model_copy(update={"lang": body.lang or lang, "date": body.date or day})
    return {"request": fixed.model_dump(mode="json", exclude_none=True)}


# Jobs being worked on in this process, so that a shutdown can wait for them.
_running: set[asyncio.Task[Any]] = set()
# Set when this process is stopping: a job taken off the queue now stays pending in the
# database, for another worker (or the next start) to run.
_stopping = asyncio.Event()


def refuse_new_jobs() -> None:
    """Stop claiming jobs in this process (shutdown)."""
    _stopping.set()


def accept_jobs() -> None:
    """Claim jobs in this process (start)."""
    _stopping.clear()


async def run_job(state: AppState, job_id: str) -> None:
    """Run one job to its end; a job another worker holds (or that is done) is left alone."""
    task = asyncio.current_task()
    if task is not None:
        _running.add(task)
        task.add_done_callback(_running.discard)
    async with state.limits.job():
        if not _stopping.is_set():
            await _run_job(state, job_id)


async def _run_job(state: AppState, job_id: str) -> None:
    async with session_scope(state.sessionmaker) as session:
        if not await jobs.claim_job(session, job_id):
            return
        job = await jobs.get_job(session, job_id)
        assert job is not None
        kind, payload = job.kind, dict(job.payload)
    heartbeat = asyncio.create_task(_heartbeat(state, job_id))
    try:
        if kind == FEED_PULL:
            follow_ups = await _run_feed_pull(state, job_id, payload)
        else:
            follow_ups = []
            await _run_summarize(state, job_id, payload)
        log.info("job.done id=%s kind=%s", job_id, kind)
    except SecdigestError as exc:
        follow_ups = []
        await _fail(state, job_id, payload, problem_dict(exc))
        log.info("job.failed id=%s kind=%s problem=%s", job_id, kind, exc.slug)
    except Exception:
        follow_ups = []
        log.exception("job.crashed id=%s kind=%s", job_id, kind)
        await _fail(state, job_id, payload, _INTERNAL)
    finally:
        heartbeat.cancel()
    # After the commit: a crash before these leaves the jobs pending, and they are resumed.
    for follow_up in follow_ups:
        await enqueue(follow_up)


_INTERNAL: dict[str, Any] = {
    "type": "/problems/internal-error",
    "title": "Internal error",
    "status": 500,
    "detail": "The job failed; it has been logged.",
}


async def _run_summarize(state: AppState, job_id: str, payload: dict[str, Any]) -> None:
    body = SummarizeRequest.model_validate(payload["request"])
    submission = submission_of(
        body, default_lang=state.settings.lang, today=today(state.settings.tz)
    )
    async with session_scope(state.sessionmaker) as session:
        outcome = await pipeline.run_submission(session, state.tools, submission)
        answer = summarize_response(outcome)
        result = (
            [a.model_dump(mode="json") for a in answer]
            if isinstance(answer, list)
            else answer.model_dump(mode="json")
        )
        await jobs.finish_job(session, job_id, result=result)


async def _run_feed_pull(state: AppState, job_id: str, payload: dict[str, Any]) -> list[str]:
    """Pull one feed; its item jobs and the job's end are committed together."""
    async with session_scope(state.sessionmaker) as session:
        outcome = await feed_pull.pull_feed(
            session,
            state.tools,
            feed_id=int(payload["feed_id"]),
            day=dt.date.fromisoformat(payload["date"]),
            lang=str(payload["lang"]),
        )
        if outcome is None:
            raise NotFound(f"feed {payload['feed_id']} was removed before its pull ran")
        # A feed that could not be fetched or read is a failed job (with its problem); the
        # result still says what the pull came to, and the feed row its next try.
        failed = outcome.problem if outcome.status == "failed" else None
        await jobs.finish_job(session, job_id, result=outcome.as_result(), problem=failed)
    return list(outcome.item_jobs)


async def _fail(
    state: AppState, job_id: str, payload: dict[str, Any], problem: dict[str, Any]
) -> None:
    async with session_scope(state.sessionmaker) as session:
        await jobs.finish_job(session, job_id, problem=problem)
        feed_id = payload.get("feed_id")
        if feed_id is not None and "request" in payload:  # an item of a feed
            await feeds.note_item_failure(
                session,
                int(feed_id),
                url=str(payload["request"].get("url", "")),
                problem=problem,
                retry=feed_pull.retryable(problem),
            )


@broker.task(task_name="secdigest.job")
async def job_task(job_id: str, context: Context = TaskiqDepends()) -> None:  # noqa: B008
    """Queue entry point of every job (the kind is in the database)."""
    await run_job(context.state.secdigest, job_id)


async def enqueue(job_id: str) -> None:
    """Hand a committed job to the queue."""
    await job_task.kiq(job_id)


async def pull_feeds_now(
    state: AppState, *, ids: Sequence[int] | None = None, force: bool = False
) -> list[tuple[int, str]]:
    """Claim the due feeds (or those named; `force` ignores the interval) and queue a
    feed-pull job for each: (feed id, job id) pairs. Their items go to today's report."""
    settings = state.settings
    day = today(settings.tz)
    async with session_scope(state.sessionmaker) as session:
        claimed = await feeds.claim_due_feeds(session, ids=ids, force=force)
        pulls = [
            (
                feed_id,
                (
                    await jobs.create_job(
                        session,
                        kind=FEED_PULL,
                        payload=feeds.pull_payload(feed_id, day=day, lang=settings.lang),
                    )
                ).id,
            )
            for feed_id in claimed
        ]
    for _feed_id, job_id in pulls:
        await enqueue(job_id)
    if pulls:
        log.info("feeds.scheduled count=%d", len(pulls))
    return pulls


async def schedule_feeds(state: AppState) -> None:
    """Forever: every SECDIGEST_FEED_CHECK_SECONDS, queue a pull of each due feed. Several
    processes may run this; the claim gives each due feed to one of them."""
    while True:
        try:
            await pull_feeds_now(state)
        except Exception:  # a database hiccup must not end the schedule
            log.exception("feeds.schedule_failed")
        await asyncio.sleep(state.settings.feed_check_seconds)


# ------------------------------------------------- CVE context: the daily KEV/EPSS update


async def schedule_enrichment(state: AppState) -> None:
    """Forever (SECDIGEST_ENRICH_SCHEDULE): update the due CVE context sources. Every
    process on the schedule looks; the claim gives each due source to one of them, once
    per SECDIGEST_ENRICH_INTERVAL (a failure is tried again an hour later)."""
    while True:
        try:
            async with session_scope(state.sessionmaker) as session:
                await enrich.update_due(
                    session, state.http, state.fetch_policy, settings=state.settings
                )
        except Exception:  # a database hiccup must not end the schedule
            log.exception("enrich.schedule_failed")
        await asyncio.sleep(enrich.CHECK_SECONDS)


# ------------------------------------------------ delivery: webhooks, mail, the publish


@broker.task(task_name="secdigest.delivery")
async def delivery_task(delivery_id: str, context: Context = TaskiqDepends()) -> None:  # noqa: B008
    """Queue entry point of one delivery attempt (the delivery is in the database)."""
    await deliver_now(context.state.secdigest, delivery_id)


async def deliver_now(state: AppState, delivery_id: str) -> str | None:
    """One attempt of a delivery, when it is due and no other process holds it."""
    task = asyncio.current_task()
    if task is not None:  # a shutdown waits for it, as for a job
        _running.add(task)
        task.add_done_callback(_running.discard)
    if _stopping.is_set():
        return None  # owed still: another process (or the next start) sends it
    try:
        return await send.attempt(
            state.sessionmaker, state.http, state.fetch_policy, state.settings, delivery_id
        )
    except Exception:  # the delivery stays owed: its lease runs out, the schedule retries
        log.exception("delivery.crashed id=%s", delivery_id)
        return None


_kicks: set[asyncio.Task[Any]] = set()


def hand_over(delivery_ids: list[str]) -> None:
    """After a commit that owed deliveries: to the queue at once (the schedule is the net)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    for delivery_id in delivery_ids:
        kick = loop.create_task(delivery_task.kiq(delivery_id))
        _kicks.add(kick)
        kick.add_done_callback(_kicks.discard)


async def run_delivery_schedule_once(state: AppState) -> int:
    """The scheduled publish if due, then every due delivery to the queue; how many."""
    async with session_scope(state.sessionmaker) as session:
        published = await delivery.publish_due(session, state.settings, now=utcnow())
    if published is not None and published.created:
        log.info(
            "publish.scheduled date=%s number=%d",
            published.publication.day,
            published.publication.number,
        )
    async with session_scope(state.sessionmaker) as session:
        due = await send.due_deliveries(session, now=utcnow())
    for delivery_id in due:
        await delivery_task.kiq(delivery_id)
    return len(due)


async def schedule_delivery(state: AppState) -> None:
    """Forever, every SECDIGEST_DELIVERY_CHECK_SECONDS: publish on schedule, and send the
    deliveries that are due (retries, and those a crash left behind). Every process on
    the schedule looks; the claims give each publish and each attempt to one of them."""
    while True:
        try:
            await run_delivery_schedule_once(state)
        except Exception:  # a database hiccup must not end the schedule
            log.exception("delivery.schedule_failed")
        await asyncio.sleep(state.settings.delivery_check_seconds)


# ---------------------------------------------------------------------------------------


async def _heartbeat(state: AppState, job_id: str) -> None:
    """Tell other processes this job's worker is alive (SECDIGEST_JOB_STALE_AFTER)."""
    while True:
        await asyncio.sleep(state.settings.job_stale_after / 4)
        try:
            async with session_scope(state.sessionmaker) as session:
                await jobs.touch_job(session, job_id)
        except SQLAlchemyError:
            log.warning("job.heartbeat_failed id=%s", job_id)


async def resume_unfinished(state: AppState, *, stale_after: timedelta) -> int:
    """Enqueue pending jobs and those whose worker died; the claim keeps each done once."""
    async with session_scope(state.sessionmaker) as session:
        unfinished = await jobs.jobs_to_resume(session, stale_after=stale_after)
    for job_id in unfinished:
        await enqueue(job_id)
    if unfinished:
        log.info("jobs.resumed count=%d", len(unfinished))
    return len(unfinished)


async def maintain_jobs(state: AppState) -> None:
    """Every quarter of SECDIGEST_JOB_STALE_AFTER: give abandoned jobs to the queue again."""
    stale_after = state.settings.job_stale_after
    while True:
        try:
            await resume_unfinished(state, stale_after=timedelta(seconds=stale_after))
        except Exception:  # keep the process alive through a database hiccup
            log.exception("jobs.maintenance_failed")
        await asyncio.sleep(stale_after / 4)


_schedule: asyncio.Task[None] | None = None
_maintenance: asyncio.Task[None] | None = None
_enrichment: asyncio.Task[None] | None = None
_delivery: asyncio.Task[None] | None = None


async def start_jobs(state: AppState, *, resume: bool = True) -> None:
    """Start the queue. With the in-process broker this process is the worker: it enqueues
    the jobs a previous run left unfinished (unless `resume` is False: a CLI run beside a
    server must not take the server's jobs) and, with SECDIGEST_FEED_SCHEDULE, pulls the
    feeds on schedule."""
    global _schedule, _maintenance, _enrichment, _delivery  # noqa: PLW0603 - one per process
    broker.state.secdigest = state
    accept_jobs()
    await broker.startup()
    delivery_events.on_commit(hand_over)
    if not isinstance(broker, InMemoryBroker):
        return  # worker processes (secdigest worker) run and resume the jobs
    if resume and _delivery is None:
        _delivery = asyncio.create_task(schedule_delivery(state))
    if state.settings.feed_schedule and resume and _schedule is None:
        _schedule = asyncio.create_task(schedule_feeds(state))
    if state.settings.enrich_schedule and resume and _enrichment is None:
        _enrichment = asyncio.create_task(schedule_enrichment(state))
    if not resume:
        return
    if state.settings.web_workers > 1:
        # Several server processes, each its own in-process worker: a job marked running
        # may be running next door; it is taken over once its heartbeat is stale, by
        # whichever process looks first.
        if _maintenance is None:
            _maintenance = asyncio.create_task(maintain_jobs(state))
        return
    # This process is the only worker of the in-process broker: a job still marked
    # running was interrupted (restart, kill -9) and is pending again.
    try:
        await resume_unfinished(state, stale_after=timedelta(0))
    except (SQLAlchemyError, OSError) as exc:
        # The service still starts (and /readyz says why it is not ready).
        log.warning("jobs.resume_skipped error=%s", type(exc).__name__)


async def stop_jobs(grace: float = 30.0) -> None:
    """Let running jobs finish (up to `grace` seconds), then stop the queue."""
    global _schedule, _maintenance, _enrichment, _delivery  # noqa: PLW0603
    for task in (_schedule, _maintenance, _enrichment, _delivery):
        if task is not None:
            # Awaited, not only cancelled: a pull cut mid-query must give its connection
            # back before the caller disposes of the engine.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    _schedule = _maintenance = _enrichment = _delivery = None
    refuse_new_jobs()
    if _running:
        await asyncio.wait(list(_running), timeout=grace)
    await broker.shutdown()
