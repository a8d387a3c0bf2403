"""Sending a delivery: one attempt, its record, and what happens next.

Each attempt is claimed with a conditional UPDATE (a lease), so that of two processes
that got the same delivery one sends it; a process killed mid-attempt leaves a lease that
runs out, and the delivery is due again (a receiver may then see a message twice, with
the same `webhook-id`: Standard Webhooks receivers deduplicate on it). No transaction is
held while the receiver is waited for.

Retries (the spec's advice): on a timeout, no answer, 429 (its Retry-After honoured) and
5xx, after SECDIGEST_WEBHOOK_RETRY_DELAYS, each with up to 10% of jitter; never on another
4xx or a 3xx (redirects are not followed: the URL needs fixing). A webhook whose failures
have lasted a day is disabled, with the reason, and its pending deliveries are cancelled.
"""

from __future__ import annotations

import email
import email.policy
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from app.db import session_scope
from app.errors import FetchBlocked, SecdigestError
from app.models import Delivery, DeliveryAttempt, Webhook
from app.models.types import utcnow
from app.services.delivery.events import (
    CANCELLED,
    EMAIL,
    FAILED,
    PENDING,
    SENDING,
    SUCCEEDED,
)
from app.services.delivery.signing import signed_headers
from app.services.delivery.webhooks import disable_webhook
from app.services.fetch import FetchPolicy, post_guarded
from app.settings import Settings

log = logging.getLogger("secdigest.delivery")

# A webhook failing for this long (from its first failure in a row) is disabled.
DISABLE_AFTER = timedelta(days=1)
# A Retry-After is honoured up to this (a day: the whole retry budget).
MAX_RETRY_AFTER = timedelta(days=1)
JITTER = 0.1
# The lease of one attempt past its timeouts: then another process may take it over.
LEASE_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended."""

    status_code: int | None
    error: str | None
    retry: bool  # worth another attempt
    retry_after: timedelta | None = None  # what the receiver asked for (429)
    blocked: bool = False  # the guard refused the URL: the webhook is disabled

    @property
    def succeeded(self) -> bool:
        """A 2xx for every part."""
        return self.error is None


async def due_deliveries(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[str]:
    """Deliveries due now: pending and due, or sending with a lease run out."""
    rows = await session.scalars(
        select(Delivery.id)
        .where(_due(now))
        .order_by(Delivery.next_attempt_at, Delivery.created_at)
        .limit(limit)
    )
    return list(rows.all())


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now),
        and_(Delivery.status == SENDING, Delivery.lease_until < now),
    )


async def attempt(
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    policy: FetchPolicy,
    settings: Settings,
    delivery_id: str,
) -> str | None:
    """One attempt of a delivery if it is due and no one else holds it; its new status."""
    now = utcnow()
    async with session_scope(sessionmaker) as session:
        delivery = await _claim(session, delivery_id, now, settings)
        if delivery is None:
            return None
        hook = await session.get(Webhook, delivery.webhook_id) if delivery.webhook_id else None
        if delivery.channel != EMAIL and (hook is None or hook.disabled_at is not None):
            delivery.status, delivery.finished_at = CANCELLED, now
            return CANCELLED
        number = delivery.attempts + 1
        delivery.attempts = number
        bodies, sent = list(delivery.bodies), delivery.parts_sent
        target = (hook.url, hook.secret) if hook is not None else None
    started = time.monotonic()
    if target is None:
        outcome = await _send_mail(settings, bodies[0])
        sent = 1 if outcome.succeeded else 0
    else:
        outcome, sent = await _post_parts(http, policy, settings, delivery_id, target, bodies, sent)
    duration = int((time.monotonic() - started) * 1000)
    async with session_scope(sessionmaker) as session:
        return await _record(session, settings, delivery_id, number, sent, outcome, duration)


async def _claim(
    session: AsyncSession, delivery_id: str, now: datetime, settings: Settings
) -> Delivery | None:
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None:
        return None
    parts = max(1, len(delivery.bodies) - delivery.parts_sent)
    lease = timedelta(seconds=settings.webhook_timeout * parts) + LEASE_MARGIN
    claimed = await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, _due(now))
        .values(status=SENDING, lease_until=now + lease),
        execution_options={"synchronize_session": False},
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    await session.refresh(delivery)
    return delivery


async def _post_parts(
    http: httpx.AsyncClient,
    policy: FetchPolicy,
    settings: Settings,
    delivery_id: str,
    target: tuple[str, str],
    bodies: list[str],
    sent: int,
) -> tuple[Outcome, int]:
    url, secret = target
    for body in bodies[sent:]:
        content = body.encode()
        headers = {
            "content-type": "application/json",
            **signed_headers(secret, delivery_id, int(time.time()), content),
        }
        try:
            answer = await post_guarded(
                http,
                policy,
                url=url,
                content=content,
                headers=headers,
                seconds=settings.webhook_timeout,
            )
        except FetchBlocked as exc:
            return Outcome(None, exc.detail, retry=False, blocked=True), sent
        except SecdigestError as exc:  # a timeout, no answer
            return Outcome(None, exc.detail, retry=True), sent
        if 200 <= answer.status < 300:
            sent += 1
            continue
        status = answer.status
        error = f"the receiver answered {status}: {answer.excerpt[:200]}".rstrip(": ")
        retry = status in {408, 429} or status >= 500
        return Outcome(status, error, retry, _retry_after(answer.retry_after)), sent
    return Outcome(200, None, retry=False), sent


def _retry_after(value: str | None) -> timedelta | None:
    """A Retry-After in seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(timedelta(seconds=int(text)), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return min(max(when - utcnow(), timedelta(0)), MAX_RETRY_AFTER)


async def _send_mail(settings: Settings, raw: str) -> Outcome:
    # Imported here: aiosmtplib only for a process that has mail to send.
    from app.services.delivery.mail import MailError, parse_smtp_url, send_message  # noqa: PLC0415

    if not settings.smtp_url:
        return Outcome(None, "SECDIGEST_SMTP_URL is no longer set", retry=False)
    message = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    try:
        await send_message(
            parse_smtp_url(settings.smtp_url), message, timeout=settings.webhook_timeout * 3
        )
    except MailError as exc:
        return Outcome(None, str(exc), retry=exc.transient)
    return Outcome(250, None, retry=False)


async def _record(
    session: AsyncSession,
    settings: Settings,
    delivery_id: str,
    number: int,
    sent: int,
    outcome: Outcome,
    duration: int,
) -> str:
    now = utcnow()
    delivery = await session.get(Delivery, delivery_id, populate_existing=True)
    assert delivery is not None
    hook = await session.get(Webhook, delivery.webhook_id) if delivery.webhook_id else None
    delivery.parts_sent = sent
    delivery.last_status = outcome.status_code
    delivery.last_error = outcome.error
    delivery.lease_until = None
    retry_at: datetime | None = None
    if outcome.succeeded:
        delivery.status, delivery.finished_at, delivery.next_attempt_at = SUCCEEDED, now, None
        if hook is not None:
            hook.failing_since = None
    else:
        delays = settings.webhook_retry_delays
        if outcome.retry and number <= len(delays):
            delay = timedelta(seconds=delays[number - 1] * (1 + random.uniform(0, JITTER)))  # noqa: S311
            retry_at = now + max(delay, outcome.retry_after or timedelta(0))
            delivery.status, delivery.next_attempt_at = PENDING, retry_at
        else:
            delivery.status, delivery.finished_at, delivery.next_attempt_at = FAILED, now, None
        if hook is not None:
            await _note_failure(session, hook, outcome, now)
    session.add(
        DeliveryAttempt(
            delivery_id=delivery_id,
            number=number,
            at=now,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=duration,
            retry_at=retry_at,
        )
    )
    log.info(
        "delivery.attempt id=%s number=%d status=%s code=%s next=%s",
        delivery_id,
        number,
        delivery.status,
        outcome.status_code,
        retry_at.isoformat() if retry_at else "-",
    )
    return delivery.status


async def _note_failure(
    session: AsyncSession, hook: Webhook, outcome: Outcome, now: datetime
) -> None:
    hook.failing_since = hook.failing_since or now
    if outcome.blocked:
        reason = f"its URL is refused by the fetch guard: {outcome.error}"
    elif now - hook.failing_since >= DISABLE_AFTER:
        reason = (
            f"every delivery failed since {hook.failing_since.isoformat(timespec='seconds')}; "
            f"the last: {outcome.error}"
        )
    else:
        return
    await disable_webhook(session, hook, reason)
    log.warning("webhook.disabled id=%s reason=%s", hook.id, reason)
