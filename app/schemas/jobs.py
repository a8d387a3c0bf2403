"""Asynchronous jobs as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from app.models import Job


class JobRead(BaseModel):
    """A job: `pending`, `running`, `succeeded` (with `result`) or `failed` (with `problem`)."""

    id: str
    kind: str
    status: str
    location: str = Field(description="Where to poll: GET it, with ?wait=N to wait up to N s.")
    result: Any = Field(None, description="The answer the synchronous call would have given.")
    problem: dict[str, Any] | None = Field(None, description="The problem+json body of a failure.")
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None


def job_read(job: Job) -> JobRead:
    """Shape a job row."""
    return JobRead(
        id=job.id,
        kind=job.kind,
        status=job.status,
        location=f"/jobs/{job.id}",
        result=job.result,
        problem=job.problem,
        attempts=job.attempts,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )
