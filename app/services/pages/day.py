"""A day's page from the database: its items and the days around it, in one transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Report
from app.services.markdown import Labels
from app.services.pages.html import render_day_html
from app.services.reports.reads import DayState, day_document


async def neighbour_days(session: AsyncSession, day: date) -> tuple[date | None, date | None]:
    """The nearest earlier and later days that have a report (one indexed query each)."""
    previous = await session.scalar(
        select(Report.day).where(Report.day < day).order_by(Report.day.desc()).limit(1)
    )
    following = await session.scalar(
        select(Report.day).where(Report.day > day).order_by(Report.day.asc()).limit(1)
    )
    return previous, following


async def render_day_page(
    session: AsyncSession, state: DayState, labels: Labels, *, lang: str
) -> bytes:
    """The page of a day's state, read through `session` (the read cache's render step)."""
    document = await day_document(session, state)
    previous, following = await neighbour_days(session, state.day)
    page = render_day_html(document, labels, lang=lang, previous_day=previous, next_day=following)
    return page.encode("utf-8")
