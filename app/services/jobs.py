"""Job state in the database: created pending, claimed once, finished with a result or a
problem. The queue only carries job ids; this table is the truth, so a restart (or a
`kill -9` of a worker) loses nothing: pending work is enqueued again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job

PENDING, RUNNING, SUCCEEDED, FAILED = "pending", "running", "succeeded", "failed"
FINISHED = frozenset({SUCCEEDED, FAILED})


async def create_job(session: AsyncSession, *, kind: str, payload: dict[str, Any]) -> Job:
    """A new pending job (the caller commits, then enqueues its id)."""
    job = Job(id=str(uuid.uuid4()), kind=kind, status=PENDING, payload=payload, attempts=0)
    session.add(job)
    await session.flush()
    return job


def keyed_job_id(key: str) -> str:
    """The id of the one job that may exist for `key` (a feed item's canonical URL)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


async def create_job_once(
    session: AsyncSession, job_id: str, *, kind: str, payload: dict[str, Any]
) -> bool:
    """Create the job with this id unless it exists; whether it was created.

    The primary key decides, so two pullers (two workers) that find the same new item
    create one job between them.
    """
    try:
        async with session.begin_nested():
            session.add(Job(id=job_id, kind=kind, status=PENDING, payload=payload, attempts=0))
    except IntegrityError:
        return False
    return True


async def retry_failed_job(session: AsyncSession, job_id: str, *, payload: dict[str, Any]) -> bool:
    """Put a failed job back to pending with a fresh payload; False if it is not failed."""
    retried = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == FAILED)
        .values(
            status=PENDING,
            payload=payload,
            result=None,
            problem=None,
            finished_at=None,
            updated_at=datetime.now(UTC),
        )
    )
    return bool(getattr(retried, "rowcount", 0))


async def get_job(session: AsyncSession, job_id: str) -> Job | None:
    """A job by id, read fresh from the database."""
    return await session.get(Job, job_id, populate_existing=True)


async def claim_job(session: AsyncSession, job_id: str) -> bool:
    """Mark a pending job running; False if another worker has it or it is done.

    One UPDATE with the status in its WHERE clause: of two workers that got the same id,
    exactly one wins, on SQLite and PostgreSQL alike.
    """
    claimed = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == PENDING)
        .values(status=RUNNING, attempts=Job.attempts + 1, updated_at=datetime.now(UTC))
    )
    return bool(getattr(claimed, "rowcount", 0))


async def finish_job(
    session: AsyncSession,
    job_id: str,
    *,
    result: Any = None,
    problem: dict[str, Any] | None = None,
) -> None:
    """Store the outcome of a running job."""
    now = datetime.now(UTC)
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            status=FAILED if problem is not None else SUCCEEDED,
            result=result,
            problem=problem,
            finished_at=now,
            updated_at=now,
        )
    )


async def touch_job(session: AsyncSession, job_id: str) -> None:
    """The heartbeat of a running job."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == RUNNING)
        .values(updated_at=datetime.now(UTC))
    )


async def jobs_to_resume(session: AsyncSession, *, stale_after: timedelta | None) -> list[str]:
    """Ids of jobs to hand to the queue again.

    With `stale_after` None (the only worker starts): every pending job. Otherwise running
    jobs not touched for `stale_after` (their worker died) are put back to pending, and the
    pending jobs returned are those not touched for that long either: their message was
    lost with a worker that had taken it off the queue. A job whose message is merely
    waiting in a long queue may be enqueued twice; the claim runs it once.
    """
    pending = select(Job.id).where(Job.status == PENDING)
    if stale_after is not None:
        cutoff = datetime.now(UTC) - stale_after
        await session.execute(
            update(Job)
            .where(Job.status == RUNNING, Job.updated_at < cutoff)
            .values(status=PENDING, updated_at=datetime.now(UTC) - stale_after)
        )
        pending = pending.where(Job.updated_at <= cutoff + timedelta(seconds=1))
    rows = await session.scalars(pending.order_by(Job.created_at))
    return list(rows)
