"""GET /jobs/{id}: the state of an asynchronous job, waiting for its end if asked."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import StateDep
from app.errors import NotFound
from app.schemas.ids import JobId
from app.schemas.jobs import JobRead
from app.services import jobs

router = APIRouter(tags=["jobs"])

_POLL_SECONDS = 0.2


@router.get("/jobs/{job_id}")
async def get_job(
    job_id: JobId,
    state: StateDep,
    wait: Annotated[float, Query(ge=0, le=60, description="Seconds to wait for the end.")] = 0,
) -> JobRead:
    """A job's state; with `wait`, answers as soon as it ends (or when the wait is over)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        # A fresh short read per look: the job is written by another task or process.
        async with state.read_sessionmaker() as session:
            job = await jobs.get_job(session, job_id)
        if job is None:
            raise NotFound(f"there is no job {job_id}")
        if job.status in jobs.FINISHED or loop.time() >= deadline:
            return JobRead.model_validate(job)
        await asyncio.sleep(min(_POLL_SECONDS, max(0.0, deadline - loop.time())))
