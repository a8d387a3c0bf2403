"""Publishing a day: a numbered publication, `report.published` to the webhooks, the mail.

Publishing the revision already published is answered with that publication (idempotent:
a retried request or a second scheduler sends nothing twice); a day curated since is
published again under the next number. The scheduled publish (SECDIGEST_PUBLISH_AT) is
claimed once per local date across processes by the primary key of its claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models import Publication, ScheduledPublish
from app.models.types import utcnow
from app.services.delivery.events import REPORT_PUBLISHED, Event, emit, owe_mail
from app.services.markdown import Labels, labels_for, render_report
from app.services.reports import get_report, report_to_document
from app.services.reports.document import ReportDocument
from app.settings import Settings

SOURCES = ("api", "cli", "schedule")


@dataclass(frozen=True, slots=True)
class Published:
    """A publication, whether this call made it, and the deliveries it owes."""

    publication: Publication
    created: bool
    deliveries: int


async def publish(
    session: AsyncSession, settings: Settings, day: date, *, source: str
) -> Published:
    """Publish a day's report as it stands; NotFound when the day has no report."""
    report = await get_report(session, day)
    if report is None:
        raise NotFound(f"there is no report for {day.isoformat()}")
    latest = await _latest(session, report.id)
    if latest is not None and latest.report_revision == report.revision:
        return Published(latest, created=False, deliveries=0)
    publication = Publication(
        report_id=report.id,
        day=day,
        number=(latest.number if latest else 0) + 1,
        report_revision=report.revision,
        source=source,
        published_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(publication)
    except IntegrityError:
        # Another process published this day at the same moment: its publication stands.
        raced = await _latest(session, report.id)
        assert raced is not None
        return Published(raced, created=False, deliveries=0)
    document = report_to_document(report)
    labels = labels_for(settings.lang, settings.model_recommendations_label)
    owed = await emit(session, published_event(publication, document, labels, settings))
    mailed = await _mail(session, settings, publication, document, labels)
    return Published(publication, created=True, deliveries=len(owed) + mailed)


async def latest_publication(session: AsyncSession, day: date) -> Publication | None:
    """The day's last publication, or None."""
    report = await get_report(session, day)
    return None if report is None else await _latest(session, report.id)


async def _latest(session: AsyncSession, report_id: int) -> Publication | None:
    return await session.scalar(
        select(Publication)
        .where(Publication.report_id == report_id)
        .order_by(Publication.number.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )


def report_link(settings: Settings, day: date, fmt: str | None = None) -> str | None:
    """The report's address for people outside (SECDIGEST_PUBLIC_URL), or None."""
    if not settings.public_url:
        return None
    link = f"{settings.public_url.rstrip('/')}/reports/{day.isoformat()}"
    return f"{link}?format={fmt}" if fmt else link


def published_event(
    publication: Publication, document: ReportDocument, labels: Labels, settings: Settings
) -> Event:
    """`report.published`: which day, which publication, what it holds."""
    from app.services.delivery.slack import slack_messages  # noqa: PLC0415 - Slack hooks only

    day = publication.day
    data: dict[str, Any] = {
        "date": day.isoformat(),
        "publication": publication.number,
        "revision": publication.report_revision,
        "published_at": publication.published_at.isoformat().replace("+00:00", "Z"),
        "item_count": len(document.items),
        "url": report_link(settings, day),
    }
    title = f"{document.title} {day.isoformat()}"
    return Event(
        type=REPORT_PUBLISHED,
        data=data,
        timestamp=publication.published_at,
        slack=lambda: slack_messages(
            document, labels, title=title, link=report_link(settings, day, "html")
        ),
    )


async def _mail(
    session: AsyncSession,
    settings: Settings,
    publication: Publication,
    document: ReportDocument,
    labels: Labels,
) -> int:
    """The digest by e-mail when SMTP and recipients are set: 1 delivery owed, else 0."""
    if not (settings.smtp_url and settings.mail_to):
        return 0
    from app.services.delivery.mail import digest_message  # noqa: PLC0415 - mail users only
    from app.services.pages import render_day_html  # noqa: PLC0415

    day = publication.day
    message = digest_message(
        day=day,
        revision=publication.number,
        markdown=render_report(document, labels),
        # No links to the days around: they are relative to the page, not to a mailbox.
        html=render_day_html(
            document, labels, lang=settings.lang, previous_day=None, next_day=None
        ),
        sender=settings.mail_from,
        recipients=list(settings.mail_to),
        title=document.title,
        domain=urlsplit(settings.public_url or "").hostname or "secdigest.invalid",
    )
    owe_mail(session, event_type=REPORT_PUBLISHED, message=message.as_string())
    return 1


# ------------------------------------------------------------------ on schedule


def publish_time(settings: Settings) -> time | None:
    """SECDIGEST_PUBLISH_AT as a time of day, or None when publishing is not scheduled."""
    if not settings.publish_at:
        return None
    hours, minutes = settings.publish_at.split(":")
    return time(int(hours), int(minutes))


async def publish_due(
    session: AsyncSession, settings: Settings, *, now: datetime
) -> Published | None:
    """The scheduled publish, if its time has come today (local time) and no process has
    done it yet; None otherwise (or when the day to publish has no report)."""
    at = publish_time(settings)
    if at is None:
        return None
    local = now.astimezone(settings.tz)
    if local.time() < at:
        return None
    run_date = local.date()
    day = run_date - timedelta(days=1) if settings.publish_day == "yesterday" else run_date
    if await session.get(ScheduledPublish, run_date) is not None:
        return None  # the usual case after the time: done today
    claim = ScheduledPublish(run_date=run_date, claimed_at=now, day=day)
    try:
        async with session.begin_nested():
            session.add(claim)
    except IntegrityError:
        return None  # done (or being done) by another process
    if await get_report(session, day) is None:
        claim.outcome = "no-report"
        return None
    published = await publish(session, settings, day, source="schedule")
    claim.outcome = "published" if published.created else "unchanged"
    return published
