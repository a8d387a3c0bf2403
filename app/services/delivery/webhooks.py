"""Webhooks: created with their secret, listed, removed; their deliveries and attempts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import FetchFailed, InvalidRequest, NotFound
from app.models import Delivery, DeliveryAttempt, Webhook
from app.models.types import utcnow
from app.services.delivery.events import CANCELLED, EVENT_TYPES, PENDING, WEBHOOK_TEST, Event, emit
from app.services.delivery.signing import new_secret
from app.services.fetch import FetchPolicy, check_url

FORMATS = ("json", "slack")
MAX_URL_LENGTH = 2048
# Deliveries listed per webhook, newest first.
MAX_LISTED = 100


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery with its attempts, oldest attempt first."""

    delivery: Delivery
    attempts: list[DeliveryAttempt]


async def check_receiver(policy: FetchPolicy, url: str) -> None:
    """The webhook URL passes the fetch guard now (it is checked again at each delivery):
    http(s), no credentials, a public address unless SECDIGEST_FETCH_ALLOW allows it;
    FetchBlocked (400, the guard's words: which setting allows it) otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidRequest(f"url: at most {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidRequest(f"url: not a valid URL ({exc})") from exc
    try:
        await check_url(parsed, policy.allow, ports=policy.ports, resolver=policy.resolver)
    except FetchFailed as exc:
        raise InvalidRequest(f"url: {exc.detail}") from exc


async def create_webhook(
    session: AsyncSession, policy: FetchPolicy, *, url: str, events: Sequence[str], format: str
) -> Webhook:
    """A new webhook, its URL checked by the guard; its secret is in the answer only."""
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise InvalidRequest(f"events: choose among {', '.join(EVENT_TYPES)}")
    if format not in FORMATS:
        raise InvalidRequest(f"format: {' or '.join(FORMATS)}")
    await check_receiver(policy, url)
    hook = Webhook(
        url=url,
        events=sorted(set(events), key=EVENT_TYPES.index),
        format=format,
        secret=new_secret(),
        created_at=utcnow(),
    )
    session.add(hook)
    await session.flush()
    return hook


async def list_webhooks(session: AsyncSession) -> list[Webhook]:
    """Every webhook, oldest first."""
    return list((await session.scalars(select(Webhook).order_by(Webhook.id))).all())


async def get_webhook(session: AsyncSession, webhook_id: int) -> Webhook:
    """One webhook; NotFound when there is none with that id."""
    hook = await session.get(Webhook, webhook_id, populate_existing=True)
    if hook is None:
        raise NotFound(f"there is no webhook {webhook_id}")
    return hook


async def delete_webhook(session: AsyncSession, webhook_id: int) -> None:
    """Remove a webhook; its deliveries go with it (nothing more is sent)."""
    await session.delete(await get_webhook(session, webhook_id))


async def disable_webhook(session: AsyncSession, hook: Webhook, reason: str) -> None:
    """Stop delivering to a webhook, saying why; what it was still owed is cancelled."""
    now = utcnow()
    hook.disabled_at = now
    hook.disabled_reason = reason
    await session.execute(
        update(Delivery)
        .where(Delivery.webhook_id == hook.id, Delivery.status == PENDING)
        .values(status=CANCELLED, finished_at=now, next_attempt_at=None, last_error=reason),
        execution_options={"synchronize_session": False},
    )


async def deliveries_of(session: AsyncSession, webhook_id: int) -> list[DeliveryView]:
    """A webhook's deliveries, newest first (at most MAX_LISTED), with their attempts."""
    await get_webhook(session, webhook_id)
    deliveries = (
        await session.scalars(
            select(Delivery)
            .where(Delivery.webhook_id == webhook_id)
            .order_by(Delivery.created_at.desc(), Delivery.id.desc())
            .limit(MAX_LISTED)
        )
    ).all()
    ids = [delivery.id for delivery in deliveries]
    attempts: dict[str, list[DeliveryAttempt]] = {delivery_id: [] for delivery_id in ids}
    if ids:
        rows = await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(ids))
            .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
        )
        for attempt in rows.all():
            attempts[attempt.delivery_id].append(attempt)
    return [DeliveryView(delivery, attempts[delivery.id]) for delivery in deliveries]


async def owe_test(session: AsyncSession, webhook_id: int) -> str:
    """A `webhook.test` message owed to one webhook, whatever it subscribed to; its id."""
    hook = await get_webhook(session, webhook_id)
    if hook.disabled_at is not None:
        raise InvalidRequest(f"webhook {webhook_id} is disabled: {hook.disabled_reason}")
    text = "secdigest: a test message. This webhook receives " + ", ".join(hook.events) + "."
    event = Event(
        type=WEBHOOK_TEST,
        data={"webhook_id": hook.id, "message": text},
        timestamp=utcnow(),
        slack=lambda: [
            {
                "text": text,
                "blocks": [{"type": "section", "text": {"type": "plain_text", "text": text}}],
            }
        ],
    )
    (delivery_id,) = await emit(session, event, only=[hook.id])
    return delivery_id
