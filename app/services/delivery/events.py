"""Events and the deliveries they owe: written in the transaction of what happened.

`emit(session, event)` adds one delivery per webhook subscribed to the event, with its
bodies fixed now (a retry sends the same bytes under the same `webhook-id`). Nothing is
sent here: once the transaction commits, the deliveries are handed to the queue
(`on_commit`), and the schedule finds any that a crash left behind (app/tasks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.models import Delivery, Webhook
from app.models.types import utcnow
from app.services.delivery.signing import new_message_id

REPORT_PUBLISHED = "report.published"
ITEM_ADDED = "item.added"
# What a webhook may subscribe to; a test message goes to one webhook whatever it chose.
EVENT_TYPES = (REPORT_PUBLISHED, ITEM_ADDED)
WEBHOOK_TEST = "webhook.test"

PENDING, SENDING, SUCCEEDED, FAILED, CANCELLED = (
    "pending",
    "sending",
    "succeeded",
    "failed",
    "cancelled",
)
WEBHOOK, EMAIL = "webhook", "email"

SlackRender = Callable[[], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, as receivers are told: its type, when, its data; and how
    a Slack-format webhook shows it (messages built only when one is subscribed)."""

    type: str
    data: dict[str, Any]
    timestamp: datetime
    slack: SlackRender

    def json_body(self) -> str:
        """The Standard Webhooks payload: {"type", "timestamp", "data"}."""
        timestamp = self.timestamp.isoformat().replace("+00:00", "Z")
        return orjson.dumps({"type": self.type, "timestamp": timestamp, "data": self.data}).decode()


async def emit(
    session: AsyncSession, event: Event, *, only: Sequence[int] | None = None
) -> list[str]:
    """A delivery per enabled webhook subscribed to the event (or the webhooks `only`
    names, subscribed or not: a test); their ids. Handed to the queue on commit."""
    query = select(Webhook).where(Webhook.disabled_at.is_(None))
    if only is not None:
        query = query.where(Webhook.id.in_(only))
    hooks = [
        hook
        for hook in (await session.scalars(query.order_by(Webhook.id))).all()
        if only is not None or event.type in hook.events
    ]
    if not hooks:
        return []
    json_bodies = [event.json_body()]
    slack_bodies: list[str] | None = None
    ids: list[str] = []
    for hook in hooks:
        if hook.format == "slack":
            if slack_bodies is None:
                slack_bodies = [orjson.dumps(message).decode() for message in event.slack()]
            bodies = slack_bodies
        else:
            bodies = json_bodies
        ids.append(_owe(session, channel=WEBHOOK, event_type=event.type, bodies=bodies, hook=hook))
    return ids


def owe_mail(session: AsyncSession, *, event_type: str, message: str) -> str:
    """A delivery of one e-mail (the whole RFC 5322 message); its id."""
    return _owe(session, channel=EMAIL, event_type=event_type, bodies=[message], hook=None)


def _owe(
    session: AsyncSession,
    *,
    channel: str,
    event_type: str,
    bodies: list[str],
    hook: Webhook | None,
) -> str:
    now = utcnow()
    delivery = Delivery(
        id=new_message_id(),
        webhook_id=hook.id if hook is not None else None,
        channel=channel,
        event_type=event_type,
        bodies=list(bodies),
        parts_sent=0,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.info.setdefault(_OWED, []).append(delivery.id)
    return delivery.id


# ------------------------------------------------------------- handing them to the queue

_OWED = "secdigest.deliveries_owed"
_dispatch: Callable[[list[str]], None] | None = None


def on_commit(dispatch: Callable[[list[str]], None]) -> None:
    """Have `dispatch` called with the ids of the deliveries each commit made owed (the
    queue's entry point sets it; without it the schedule finds them a moment later)."""
    global _dispatch  # noqa: PLW0603 - one queue per process
    _dispatch = dispatch


@orm_event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    owed = session.info.pop(_OWED, None)
    if owed and _dispatch is not None:
        _dispatch(list(owed))


@orm_event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_OWED, None)  # never written: nothing is owed
