"""Analysts curate a day's report: add a URL or a link, edit, move, reorder, remove items.

Positions are dense and unique within a section (0, 1, 2...). Every change locks the
report's row first (FOR NO KEY UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
serialises writers), then reads the items fresh, so two reorders of one day run one after
the other and the second sees the first's result. Sections touched are renumbered, which
also repairs any gap or tie left by placements that raced outside curation.

IOCs are evidence found in the article: an edit may only remove some, never add one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidRequest, NotFound, SecdigestError
from app.models import Report, ReportItem
from app.models.types import utcnow
from app.services import pipeline
from app.services.delivery.items import announce_item
from app.services.pipeline import Placement, Tools
from app.services.reports import get_or_create_report, get_report
from app.services.reports.document import ItemKind
from app.services.reports.sections import LINK_SECTIONS, Section
from app.services.reports.urls import canonical_url

_TEXT_LISTS = ("summary", "recommendations", "other", "model_recommendations")


@dataclass(frozen=True, slots=True)
class Added:
    """An added article: a new item, or (created False) the entry of the same story from
    another site, which the URL joined as a further source."""

    item: ReportItem
    created: bool


@dataclass(frozen=True, slots=True)
class ItemEdit:
    """What a PATCH changes; None leaves a field as it is."""

    title: str | None = None
    url: str | None = None
    summary: list[str] | None = None
    recommendations: list[str] | None = None
    other: list[str] | None = None
    model_recommendations: list[str] | None = None
    # The IOCs to keep, as (type, value); each must be one the item already has.
    iocs: list[tuple[str, str]] | None = None
    section: Section | None = None
    position: int | None = None


def is_entry(item: ReportItem) -> bool:
    """Whether the item is a summarized entry (an article, or an imported entry) rather than
    a bare link: entries have text to edit and show in full outside the link sections."""
    return item.article_id is not None or any(
        getattr(item, name) for name in (*_TEXT_LISTS, "iocs")
    )


def _kind_in(item: ReportItem, section: Section) -> ItemKind:
    # The same rule as place_article: an entry is listed as a link in the link sections
    # (the JSON keeps its summary); a bare link stays a link wherever it goes.
    if not is_entry(item) or (section in LINK_SECTIONS and item.url):
        return ItemKind.LINK
    return ItemKind.ARTICLE


def _ordered(report: Report, section: str) -> list[ReportItem]:
    items = [item for item in report.items if item.section == section]
    return sorted(items, key=lambda item: (item.position, item.id))


def _renumber(items: Sequence[ReportItem]) -> None:
    for index, item in enumerate(items):
        if item.position != index:
            item.position = index


def _same_url(url: str) -> str:
    try:
        return canonical_url(url)
    except SecdigestError:
        return url.strip()  # an imported oddity: compared as written


def _item_with_url(report: Report, url: str) -> ReportItem | None:
    """The item whose link, or one of whose merged sources, is that URL."""
    key = _same_url(url)
    for item in report.items:
        urls = [item.url, *(source.get("url") for source in item.sources)]
        if any(u and _same_url(u) == key for u in urls):
            return item
    return None


def _conflict(day: date, item: ReportItem) -> Conflict:
    return Conflict(
        f"that URL is already in the report of {day.isoformat()} as item {item.id} "
        f"(section {item.section}); edit or move that item instead",
        item_id=item.id,
        section=item.section,
    )


async def _locked_report(session: AsyncSession, day: date) -> Report | None:
    """The day's report, its row locked until commit and its items read fresh."""
    # Without autoflush, pending changes would be overwritten by populate_existing.
    await session.flush()
    return await session.scalar(
        select(Report)
        .where(Report.day == day)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: placements may still insert
        .execution_options(populate_existing=True)
    )


async def _locked_item(session: AsyncSession, day: date, item_id: int) -> tuple[Report, ReportItem]:
    report = await _locked_report(session, day)
    if report is None:
        raise NotFound(f"there is no report for {day.isoformat()}")
    return report, _find(report, day, item_id)


def _find(report: Report, day: date, item_id: int) -> ReportItem:
    for item in report.items:
        if item.id == item_id:
            return item
    raise NotFound(f"the report of {day.isoformat()} has no item {item_id}")


def _move(report: Report, item: ReportItem, section: Section, position: int | None) -> None:
    """Put the item at `position` of `section` (its end when None) and renumber both sections."""
    source = item.section
    siblings = [other for other in _ordered(report, section.value) if other is not item]
    if position is None:
        position = (
            _ordered(report, source).index(item) if source == section.value else len(siblings)
        )
    if position > len(siblings):
        raise InvalidRequest(
            f"position {position} is past the end of section {section.value}: "
            f"use 0 to {len(siblings)}",
            field="position",
        )
    siblings.insert(position, item)
    item.section = section.value
    item.kind = _kind_in(item, section).value
    _renumber(siblings)
    if source != section.value:
        _renumber(_ordered(report, source))


async def get_item(session: AsyncSession, *, day: date, item_id: int) -> ReportItem:
    """One item of a day's report; NotFound for an unknown day or item."""
    report = await get_report(session, day)
    if report is None:
        raise NotFound(f"there is no report for {day.isoformat()}")
    return _find(report, day, item_id)


async def add_link(
    session: AsyncSession,
    *,
    day: date,
    title: str,
    url: str,
    section: Section,
    position: int | None = None,
) -> ReportItem:
    """Add a `- [title](url)` line to a section (any section: in an article section it is
    listed as a link there too); the report is created when the day has none."""
    await get_or_create_report(session, day)
    report = await _locked_report(session, day)
    assert report is not None  # created just above, in this transaction
    same = _item_with_url(report, url)
    if same is not None:
        raise _conflict(day, same)
    item = ReportItem(
        section=section.value,
        position=len(_ordered(report, section.value)),
        kind=ItemKind.LINK.value,
        title=title,
        url=url,
    )
    report.items.append(item)
    await session.flush()
    _move(report, item, section, position)
    report.updated_at = utcnow()
    await session.flush()
    await announce_item(session, item, day)
    return item


@contextmanager
def _inserted_items(session: AsyncSession) -> Iterator[list[Any]]:
    """The ReportItems this session inserts meanwhile (not those another request placed)."""
    inserted: list[Any] = []

    def note(_session: Any, instance: Any) -> None:
        if isinstance(instance, ReportItem):
            inserted.append(instance)

    event.listen(session.sync_session, "pending_to_persistent", note)
    try:
        yield inserted
    finally:
        event.remove(session.sync_session, "pending_to_persistent", note)


async def add_article(
    session: AsyncSession,
    tools: Tools,
    *,
    url: str,
    placement: Placement,
    position: int | None = None,
) -> Added:
    """Summarize a URL (as POST /summarize does) into the placement's day and section.

    Conflict when the report already holds that URL or that article (a concurrent
    request placed it first). Another site's article of a story already in the report
    joins that entry as a source (the dedupe of place_article): `created` is False, and
    the entry keeps its section and place.
    """
    report = await get_report(session, placement.day)
    same = _item_with_url(report, url) if report is not None else None
    if same is not None:
        raise _conflict(placement.day, same)
    with _inserted_items(session) as inserted:
        result = await pipeline.summarize_url(session, tools, url=url, placement=placement)
    if not any(result.item is mine for mine in inserted):
        if result.item.article_id == result.article.id:
            raise _conflict(placement.day, result.item)
        return Added(result.item, created=False)
    report, item = await _locked_item(session, placement.day, result.item.id)
    _move(report, item, Section(item.section), position)
    report.updated_at = utcnow()
    await session.flush()
    return Added(item, created=True)


def _kept_iocs(item: ReportItem, wanted: list[tuple[str, str]]) -> list[dict[str, Any]]:
    # The stored snapshot is filtered, never rebuilt from the request: what stays is exactly
    # what the extraction found, flags and display form included.
    def known(type_: str, value: str) -> bool:
        return any(i["type"] == type_ and value in (i["value"], i["defanged"]) for i in item.iocs)

    unknown = [f"{t}:{v}" for t, v in wanted if not known(t, v)]
    if unknown:
        raise InvalidRequest(
            "IOCs are evidence found in the article: an edit may only remove them; "
            f"not among this item's IOCs: {', '.join(unknown[:5])}",
            field="iocs",
        )
    keep = set(wanted)
    return [
        i
        for i in item.iocs
        if (i["type"], i["value"]) in keep or (i["type"], i["defanged"]) in keep
    ]


def _apply_text(item: ReportItem, edit: ItemEdit) -> None:
    entry = is_entry(item)
    lists = {name: getattr(edit, name) for name in _TEXT_LISTS if getattr(edit, name)}
    if not entry and (lists or edit.iocs):
        raise InvalidRequest(
            "a link item has no summary, IOCs or notes: post its URL as an article instead",
            field=next(iter(lists), "iocs"),
        )
    if edit.url is not None and edit.url != item.url:
        if entry:
            # An entry's URL is its source: the evidence came from that page.
            raise InvalidRequest("the URL of a summarized entry cannot change", field="url")
        item.url = edit.url
    if edit.title is not None:
        item.title = edit.title
    for name in _TEXT_LISTS:
        value = getattr(edit, name)
        if value is not None:
            setattr(item, name, list(value))
    if edit.iocs is not None:
        item.iocs = _kept_iocs(item, edit.iocs)


async def edit_item(
    session: AsyncSession, *, day: date, item_id: int, edit: ItemEdit
) -> ReportItem:
    """Change an item's text, section and place; the other items shift to stay dense."""
    report, item = await _locked_item(session, day, item_id)
    if edit.url is not None:
        same = _item_with_url(report, edit.url)
        if same is not None and same is not item:
            raise _conflict(day, same)
    _apply_text(item, edit)
    if edit.section is not None or edit.position is not None:
        _move(report, item, edit.section or Section(item.section), edit.position)
    report.updated_at = utcnow()
    await session.flush()
    return item


async def remove_item(session: AsyncSession, *, day: date, item_id: int) -> None:
    """Take an item out of the report; the article itself stays stored."""
    report, item = await _locked_item(session, day, item_id)
    report.items.remove(item)  # delete-orphan: the row goes at flush
    _renumber(_ordered(report, item.section))
    report.updated_at = utcnow()
    await session.flush()
