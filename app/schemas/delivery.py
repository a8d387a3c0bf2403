"""Publications, webhooks and their deliveries as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.services.delivery.events import EVENT_TYPES
from app.services.delivery.publish import Published
from app.services.delivery.webhooks import MAX_URL_LENGTH, DeliveryView

EventType = Literal["report.published", "item.added"]
assert set(EVENT_TYPES) == {"report.published", "item.added"}


class PublicationRead(BaseModel):
    """A publish of a day's report."""

    date: dt.date
    number: int = Field(description="1 for the first publish of the day, then 2, 3...")
    revision: int = Field(description="The report's revision published.")
    published_at: dt.datetime
    source: str = Field(description="api, cli or schedule")
    created: bool = Field(
        description="False when this revision was published already (nothing sent again)."
    )
    deliveries: int = Field(description="Webhook messages and e-mails this publish owes.")


class WebhookCreate(BaseModel):
    """A receiver of events."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL_LENGTH, description="https://... (the fetch guard applies)")
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    format: Literal["json", "slack"] = Field(
        "json",
        description="json: Standard Webhooks payloads {type, timestamp, data}; slack: Block "
        "Kit messages for a Slack incoming webhook.",
    )


class WebhookRead(BaseModel):
    """A webhook (its secret is shown only when it is created)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    format: str
    created_at: dt.datetime
    failing_since: dt.datetime | None = Field(description="First failure of the current run.")
    disabled_at: dt.datetime | None
    disabled_reason: str | None = Field(description="Why deliveries stopped.")


class WebhookCreated(WebhookRead):
    """A new webhook and its signing secret: shown once, keep it."""

    secret: str = Field(description="whsec_...: verify `webhook-signature` with it.")


class WebhookList(BaseModel):
    """Every webhook, oldest first."""

    webhooks: list[WebhookRead]


class AttemptRead(BaseModel):
    """One attempt of a delivery."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    at: dt.datetime
    status_code: int | None = Field(description="The receiver's answer; null: none came.")
    error: str | None
    duration_ms: int
    retry_at: dt.datetime | None = Field(description="When the next attempt is due.")


class DeliveryRead(BaseModel):
    """A message owed to the webhook, and its attempts."""

    id: str = Field(description="The webhook-id header: the same on every attempt.")
    event_type: str
    status: str = Field(description="pending, sending, succeeded, failed, cancelled")
    attempts: list[AttemptRead]
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


class DeliveryList(BaseModel):
    """A webhook's deliveries, newest first (the last 100)."""

    deliveries: list[DeliveryRead]


class WebhookTestSent(BaseModel):
    """A test message owed to the webhook."""

    delivery_id: str = Field(description="Follow it in GET /webhooks/{id}/deliveries.")


def publication_read(published: Published) -> PublicationRead:
    """A publish's outcome as JSON."""
    publication = published.publication
    return PublicationRead(
        date=publication.day,
        number=publication.number,
        revision=publication.report_revision,
        published_at=publication.published_at,
        source=publication.source,
        created=published.created,
        deliveries=published.deliveries,
    )


def delivery_read(view: DeliveryView) -> DeliveryRead:
    """A delivery and its attempts as JSON."""
    delivery = view.delivery
    return DeliveryRead(
        id=delivery.id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=[AttemptRead.model_validate(attempt) for attempt in view.attempts],
        next_attempt_at=delivery.next_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
    )
