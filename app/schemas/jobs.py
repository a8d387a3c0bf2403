"""Asynchronous jobs as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobRead(BaseModel):
    """A job: `pending`, `running`, `succeeded` (with `result`) or `failed` (with `problem`)."""

    # JobRead.model_validate(job_row): the fields are the Job row's, `location` its property.

    model_config = ConfigDict(from_attributes=True)

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
