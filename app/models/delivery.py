"""Delivery: publications of a day, webhooks, and each message owed to a receiver.

A delivery is written in the transaction of the event that causes it (a publish, an item
added): once that commits, the message is owed and is kept until it is delivered or given
up, whatever process dies meanwhile (the outbox pattern; app/services/delivery/).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import JsonType, UtcDateTime, utcnow


class Publication(Base):
    """One publish of a day's report: numbered 1, 2, ... per day (a re-publish after
    curation is the next number), with the report's revision it published."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    # reports.revision when published: publishing the same revision again is a no-op.
    report_revision: Mapped[int] = mapped_column(Integer)
    # "api", "cli" or "schedule": who asked.
    source: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScheduledPublish(Base):
    """The scheduled publish of one local date, claimed once across processes (the
    primary key decides); what came of it."""

    __tablename__ = "scheduled_publishes"

    run_date: Mapped[date] = mapped_column(Date, primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # "published", "unchanged" (that revision was published already), "no-report".
    outcome: Mapped[str | None] = mapped_column(String(16))
    day: Mapped[date | None] = mapped_column(Date)


class Webhook(Base):
    """A receiver of events: where, which events, in which format, and its secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JsonType)
    format: Mapped[str] = mapped_column(String(16))  # "json" or "slack"
    # whsec_ + base64 of 32 random bytes. Kept as is: signing needs it (Standard Webhooks
    # signatures are symmetric); it is shown once, at creation.
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The first failure of the current run of failures; cleared by a success.
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """One message owed to a webhook (or a mailbox): its bytes, fixed when it was made
    (every attempt sends the same `webhook-id` and body), and where its attempts stand."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # What the schedule looks for: the due ones.
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_webhook", "webhook_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # msg_...: webhook-id
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # "webhook" or "email"
    event_type: Mapped[str] = mapped_column(String(64))
    # The bodies, sent in order (a Slack digest is several messages); `parts_sent` of them
    # went through already: a retry resumes after them.
    bodies: Mapped[list[str]] = mapped_column(JsonType)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    # pending (due at next_attempt_at), sending (leased until lease_until), succeeded,
    # failed (given up: a 4xx, or out of retries), cancelled (its webhook was disabled).
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DeliveryAttempt(Base):
    """One attempt of a delivery: when, what the receiver answered, what happens next."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    # When the next attempt is due; None when this one ended the delivery.
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
