"""The job queue: taskiq, with the in-process broker as the embedded default.

The queue carries job ids only; the job's request, state and answer live in the database
(app/services/jobs.py). A task is an entry point like a route: it loads the job, calls the
pipeline, stores the answer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends

from app.db import session_scope
from app.errors import SecdigestError, problem_dict
from app.schemas.summarize import SummarizeRequest, submission_of, summarize_response
from app.services import jobs, pipeline
from app.services.reports import today
from app.settings import get_settings
from app.state import AppState

log = logging.getLogger("secdigest.jobs")

SUMMARIZE = "summarize"


HEARTBEAT_SECONDS = 15.0
# A running job whose heartbeat is older than this lost its worker (kill -9, a crash).
STALE_AFTER = timedelta(seconds=60)


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


async def run_summarize_job(state: AppState, job_id: str) -> None:
    """Run one summarize job to its end; a job another worker holds is left alone."""
    if _stopping.is_set():
        return
    task = asyncio.current_task()
    if task is not None:
        _running.add(task)
        task.add_done_callback(_running.discard)
    async with session_scope(state.sessionmaker) as session:
        if not await jobs.claim_job(session, job_id):
            return
        job = await jobs.get_job(session, job_id)
        assert job is not None
        payload = dict(job.payload)
    heartbeat = asyncio.create_task(_heartbeat(state, job_id))
    try:
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
        log.info("job.done id=%s kind=%s", job_id, SUMMARIZE)
    except SecdigestError as exc:
        async with session_scope(state.sessionmaker) as session:
            await jobs.finish_job(session, job_id, problem=problem_dict(exc))
        log.info("job.failed id=%s problem=%s", job_id, exc.slug)
    except Exception:
        log.exception("job.crashed id=%s", job_id)
        async with session_scope(state.sessionmaker) as session:
            await jobs.finish_job(
                session,
                job_id,
                problem={
                    "type": "/problems/internal-error",
                    "title": "Internal error",
                    "status": 500,
                    "detail": "The job failed; it has been logged.",
                },
            )
    finally:
        heartbeat.cancel()


@broker.task(task_name="secdigest.summarize")
async def summarize_task(job_id: str, context: Context = TaskiqDepends()) -> None:  # noqa: B008
    """Queue entry point of a summarize job."""
    await run_summarize_job(context.state.secdigest, job_id)


async def enqueue(job_id: str) -> None:
    """Hand a committed job to the queue."""
    await summarize_task.kiq(job_id)


async def _heartbeat(state: AppState, job_id: str) -> None:
    """Tell other processes this job's worker is alive (see STALE_AFTER)."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
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


async def start_jobs(state: AppState) -> None:
    """Start the in-process queue and enqueue the jobs a previous run left unfinished."""
    broker.state.secdigest = state
    accept_jobs()
    await broker.startup()
    if not isinstance(broker, InMemoryBroker):
        return  # worker processes (secdigest worker) run and resume the jobs
    # This process is the only worker of the in-process broker: a job still marked
    # running was interrupted (restart, kill -9) and is pending again.
    try:
        await resume_unfinished(state, stale_after=timedelta(0))
    except (SQLAlchemyError, OSError) as exc:
        # The service still starts (and /readyz says why it is not ready).
        log.warning("jobs.resume_skipped error=%s", type(exc).__name__)


async def stop_jobs(grace: float = 30.0) -> None:
    """Let running jobs finish (up to `grace` seconds), then stop the queue."""
    refuse_new_jobs()
    if _running:
        await asyncio.wait(list(_running), timeout=grace)
    await broker.shutdown()
