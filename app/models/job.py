"""Asynchronous jobs and the answers remembered for Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import JsonType, UtcDateTime, utcnow


class Job(Base):
    """Work accepted with 202 and done in the background; its state lives here so that a
    restart resumes what was pending."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # summarize
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|running|succeeded|failed
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    result: Mapped[Any | None] = mapped_column(JsonType)
    problem: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def location(self) -> str:
        """Where the job is polled: its Location header and the `location` of its JSON."""
        return f"/jobs/{self.id}"


class IdempotencyRecord(Base):
    """The first answer to a POST with an Idempotency-Key, replayed for the same key."""

    __tablename__ = "idempotency_keys"

    # Whose key it is: "key:<prefix>" of an API key, or "anonymous" (no key exists, this
    # machine only). Keys are scoped per caller, as Stripe scopes them per account: the same
    # key from another caller is another record, never a replay of this one. Rows from
    # before the column are "legacy" when API keys existed then (their caller is unknown:
    # replayed to no one), else "anonymous" (every caller was).
    caller: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    # None while the first request is still being answered.
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JsonType)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
