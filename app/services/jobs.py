"""Job state in the database: created pending, claimed once, finished with a result or a
problem. The queue only carries job ids; this table is the truth, so a restart (or a
`kill -9` of a worker) loses nothing: pending work is enqueued again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
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


async def release_job(session: AsyncSession, job_id: str) -> None:
    """Put a running job back to pending (the worker stopped before finishing it)."""
    await session.execute(
        update(Job).where(Job.id == job_id, Job.status == RUNNING).values(status=PENDING)
    )


async def jobs_to_resume(session: AsyncSession, *, stale_after: timedelta | None) -> list[str]:
    """Ids of pending jobs, and of running ones not touched for `stale_after` (their
    worker died); the latter are put back to pending first."""
    if stale_after is not None:
        cutoff = datetime.now(UTC) - stale_after
        await session.execute(
            update(Job).where(Job.status == RUNNING, Job.updated_at < cutoff).values(status=PENDING)
        )
    rows = await session.scalars(
        select(Job.id).where(Job.status == PENDING).order_by(Job.created_at)
    )
    return list(rows)
