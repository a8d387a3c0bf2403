"""Daily reports: which day, placing articles, loading a day as a ReportDocument, importing one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest, NotFound
from app.models import Article, Report, ReportItem, Summary
from app.services.reports import dedupe
from app.services.reports.document import (
    DocumentIoc,
    DocumentItem,
    DocumentSource,
    ItemKind,
    ReportDocument,
)
from app.services.reports.sections import LINK_SECTIONS, SECTION_RANK, Section

log = logging.getLogger("secdigest.reports")


def today(tz: tzinfo) -> date:
    """The calendar day it is now in the report timezone."""
    return datetime.now(tz).date()


def parse_day(spec: str, tz: tzinfo) -> date | None:
    """`YYYY-MM-DD` or `today` as a date; None for `latest` (it needs the database)."""
    spec = spec.strip().lower()
    if spec == "today":
        return today(tz)
    if spec == "latest":
        return None
    try:
        return date.fromisoformat(spec)
    except ValueError as exc:
        raise InvalidRequest(f"{spec!r} is not a date: use YYYY-MM-DD, today or latest") from exc


async def resolve_day(session: AsyncSession, spec: str, tz: tzinfo) -> date:
    """A report day from the path: `latest` is the newest day that has a report."""
    day = parse_day(spec, tz)
    if day is not None:
        return day
    newest: date | None = await session.scalar(select(func.max(Report.day)))
    if newest is None:
        raise NotFound("there is no report yet")
    return newest


async def get_report(session: AsyncSession, day: date) -> Report | None:
    """The report of a day, items loaded fresh from the database, or None."""
    # populate_existing: a report already in the session may have been changed by another
    # request since (sessions keep objects across commits: expire_on_commit=False).
    return await session.scalar(
        select(Report).where(Report.day == day).execution_options(populate_existing=True)
    )


async def get_or_create_report(session: AsyncSession, day: date) -> Report:
    """The report of a day, created when missing (safe when two requests race for it)."""
    report = await get_report(session, day)
    if report is not None:
        return report
    try:
        async with session.begin_nested():
            report = Report(day=day, items=[])
            session.add(report)
    except IntegrityError:
        report = await get_report(session, day)
        if report is None:  # pragma: no cover - the row that won the race vanished
            raise
    return report


async def list_reports(session: AsyncSession) -> list[tuple[date, int]]:
    """Every day that has a report, newest first, with its item count."""
    rows = await session.execute(
        select(Report.day, func.count(ReportItem.id))
        .outerjoin(ReportItem, ReportItem.report_id == Report.id)
        .group_by(Report.id, Report.day)
        .order_by(Report.day.desc())
    )
    return [(day, count) for day, count in rows.all()]


def _next_position(report: Report, section: Section) -> int:
    positions = [item.position for item in report.items if item.section == section.value]
    return max(positions, default=-1) + 1


def _ioc_snapshot(article: Article) -> list[dict[str, Any]]:
    return [
        {"type": i.type, "value": i.value, "defanged": i.defanged, "flags": list(i.flags)}
        for i in article.iocs
    ]


def _copy_summary(item: ReportItem, article: Article, summary: Summary) -> None:
    item.title = summary.title or article.title
    item.url = article.url or article.final_url
    item.summary = list(summary.bullets)
    item.iocs = _ioc_snapshot(article)
    item.recommendations = list(summary.recommendations)
    item.other = list(summary.other)
    item.model_recommendations = list(summary.model_recommendations)


def new_entry(article: Article, summary: Summary, section: Section) -> ReportItem:
    """The entry an article makes in `section`, not yet in any report (a preview answers it
    as it is). The incident and memo sections of the digest are lists of links (as in the
    analysts' sample); the item keeps the summary for the JSON all the same."""
    as_link = section in LINK_SECTIONS and bool(article.url or article.final_url)
    item = ReportItem(
        section=section.value,
        position=0,
        kind=(ItemKind.LINK if as_link else ItemKind.ARTICLE).value,
        sources=[],
        display=None,
    )
    _copy_summary(item, article, summary)
    return item


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an article went: its entry, and whether the entry is new."""

    item: ReportItem
    added: bool


async def place_article(
    session: AsyncSession,
    *,
    day: date,
    article: Article,
    summary: Summary,
    section: Section,
    refresh: bool = False,
    merge: bool = True,
) -> Placed:
    """Put an article in a day's report once; `refresh` rewrites its text from the summary.
    The entry it is in, and whether this call added it (not found there, not merged).

    With `merge`, the same story already in the day as an article entry (another site's
    rewrite, or the same text under another URL) gets this article as another source
    instead of a second entry (app/services/dedupe.py).
    """
    report = await _locked_report(session, day)
    for item in report.items:
        if item.article_id == article.id:
            if refresh:
                _copy_summary(item, article, summary)
                await session.flush()
            return Placed(item, added=False)
    item = new_entry(article, summary, section)
    source = dedupe.source_of(article)
    if merge and item.kind == ItemKind.ARTICLE.value and source is not None:
        merged = await _merge_story(session, report, article, source, refresh=refresh)
        if merged is not None:
            return Placed(merged, added=False)
    item.report_id = report.id
    item.article_id = article.id
    item.position = _next_position(report, section)
    try:
        async with session.begin_nested():
            session.add(item)
    except IntegrityError:
        # A concurrent request placed the same article first: one item, theirs.
        placed = await session.scalar(
            select(ReportItem).where(
                ReportItem.report_id == report.id, ReportItem.article_id == article.id
            )
        )
        if placed is None:  # pragma: no cover - the winner was rolled back
            raise
        if refresh:
            _copy_summary(placed, article, summary)
            await session.flush()
        return Placed(placed, added=False)
    return Placed(item, added=True)


async def _locked_report(session: AsyncSession, day: date) -> Report:
    """The day's report (created if missing), its row locked until commit, items fresh.

    Placing compares an article with the day's items: two placements at once (workers on
    PostgreSQL) must not both miss each other and add the same story twice.
    """
    await session.flush()  # populate_existing would overwrite unflushed changes
    locked = (
        select(Report)
        .where(Report.day == day)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    # One read of the items in the usual case (the writer lock is held while they load).
    report = await session.scalar(locked)
    if report is None:
        await get_or_create_report(session, day)
        report = await session.scalar(locked)
    assert report is not None  # created above, in this transaction
    return report


async def _merge_story(
    session: AsyncSession,
    report: Report,
    article: Article,
    source: dict[str, Any],
    *,
    refresh: bool,
) -> ReportItem | None:
    item = dedupe.listed_as_source(report, source["url"])
    score = 1.0
    if item is None:
        twin = await dedupe.story_twin(session, report, article, refresh=refresh)
        if twin is None:
            return None
        item, score = twin
    dedupe.add_source(item, source)
    await session.flush()
    log.info("report.merged item=%s article=%s score=%.2f", item.id, article.id, score)
    return item


def item_to_document(item: ReportItem, *, full: bool = False) -> DocumentItem:
    """A stored item as a digest entry; `full` shows a linked article as a whole entry
    (what `POST /summarize?format=md` answers, whatever section the item sits in; a preview's
    entry has no article row but has its summary)."""
    kind = ItemKind(item.kind)
    if full and (item.article_id is not None or item.summary):
        kind = ItemKind.ARTICLE
    return DocumentItem(
        id=item.id,
        article_id=item.article_id,
        kind=kind,
        section=Section(item.section),
        title=item.title,
        url=item.url,
        summary=list(item.summary),
        iocs=[DocumentIoc.of(i) for i in item.iocs],
        recommendations=list(item.recommendations),
        other=list(item.other),
        model_recommendations=list(item.model_recommendations),
        sources=[DocumentSource(url=s["url"], title=s.get("title")) for s in item.sources],
        display=item.display,
    )


def report_to_document(report: Report) -> ReportDocument:
    """A stored report as a ReportDocument, items in section order, then position."""
    items = sorted(report.items, key=lambda i: (SECTION_RANK.get(i.section, 99), i.position, i.id))
    return ReportDocument(day=report.day, items=[item_to_document(item) for item in items])


async def load_document(session: AsyncSession, day: date) -> ReportDocument:
    """A day's digest; NotFound when the day has no report."""
    report = await get_report(session, day)
    if report is None:
        raise NotFound(f"there is no report for {day.isoformat()}")
    return report_to_document(report)


async def import_document(session: AsyncSession, day: date, digest: ReportDocument) -> Report:
    """Replace a day's report with the items of a parsed digest."""
    _check_links(digest.items)
    report = await get_or_create_report(session, day)
    report.items.clear()
    await session.flush()
    positions: dict[Section, int] = {}
    for entry in digest.items:
        position = positions.get(entry.section, 0)
        positions[entry.section] = position + 1
        report.items.append(
            ReportItem(
                section=entry.section.value,
                position=position,
                kind=entry.kind.value,
                title=entry.title,
                url=entry.url,
                summary=list(entry.summary),
                iocs=[
                    {"type": i.type, "value": i.value, "defanged": i.defanged, "flags": []}
                    for i in entry.iocs
                ],
                recommendations=list(entry.recommendations),
                other=list(entry.other),
                model_recommendations=list(entry.model_recommendations),
                sources=[{"title": s.title, "url": s.url} for s in entry.sources],
            )
        )
    report.updated_at = datetime.now(report.created_at.tzinfo)
    await session.flush()
    return report


def _check_links(items: Sequence[DocumentItem]) -> None:
    # A report is pasted into chat and mail: its only links are http(s) sources.
    for item in items:
        if item.kind == ItemKind.LINK and not (item.url or "").lower().startswith(
            ("http://", "https://")
        ):
            raise InvalidRequest(f"link item {item.title!r} needs an http(s) URL")
