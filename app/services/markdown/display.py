"""The outside text of a report item as the Markdown shows it, computed when it is written.

Escaping a line and defanging the indicators in it (a scan of the IOC engine per line) is
most of a render's cost. The lines are therefore computed once, when an item is inserted or
updated (an ORM hook on ReportItem, installed by `keep_display_current`), stored in
`report_items.display`, and a render lays them out. Lines stored by another version of the
rules (`DISPLAY_VERSION`), rows written before the column existed, and lines whose item
changed behind the ORM's back (a bulk UPDATE, a process of an older release during an
upgrade: the stored lines carry a digest of what they were made from) are computed again
at render time: the stored copy is a cache, never the only truth.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import event, inspect

from app.models import ReportItem
from app.services.iocs import defang_text
from app.services.markdown.escape import escape_text, guard_line_start

# Bumped whenever escape_text, defang_text or the guards change what a line becomes.
# 3: issue 19's IOC rules (CIDR networks, upper-case and underscore names) defang more.
DISPLAY_VERSION = 3
TEXT_LISTS = ("summary", "recommendations", "other", "model_recommendations")


def display_text(value: str) -> str:
    """A value as one inert Markdown line: escaped, indicators defanged, no definition."""
    # Escape first (structure), then defang (no live indicator anywhere in the report),
    # then make sure that defanging did not leave a `[` where a definition could start.
    return guard_line_start(defang_text(escape_text(value)))


def display_lines(
    *,
    title: str,
    iocs: list[dict[str, Any]],
    summary: list[str],
    recommendations: list[str],
    other: list[str],
    model_recommendations: list[str],
) -> dict[str, Any]:
    """Every outside-text line of an item as the Markdown shows it (IOC lines one per IOC,
    in order, the benign ones included: the renderer picks the evidence)."""
    return {
        "v": DISPLAY_VERSION,
        "of": source_digest(
            title=title,
            iocs=iocs,
            summary=summary,
            recommendations=recommendations,
            other=other,
            model_recommendations=model_recommendations,
        ),
        "title": display_text(title),
        # Display forms carry intended brackets (`evil[.]com`), which escape_text keeps;
        # anything else (an imported line, an `other` value) is outside text too.
        "iocs": [display_text(str(ioc.get("defanged", ""))) for ioc in iocs],
        "summary": [display_text(line) for line in summary],
        "recommendations": [display_text(line) for line in recommendations],
        "other": [display_text(line) for line in other],
        "model_recommendations": [display_text(line) for line in model_recommendations],
    }


def source_digest(
    *,
    title: str,
    iocs: list[dict[str, Any]],
    summary: list[str],
    recommendations: list[str],
    other: list[str],
    model_recommendations: list[str],
) -> str:
    """A digest of the values the lines are made of (a microsecond per item to check)."""
    digest = hashlib.blake2b(digest_size=12)
    for part in (
        [title],
        [str(ioc.get("defanged", "")) for ioc in iocs],
        summary,
        recommendations,
        other,
        model_recommendations,
    ):
        for value in part:
            digest.update(value.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        digest.update(b"\x01")
    return digest.hexdigest()


def current_display(display: dict[str, Any] | None, **source: Any) -> dict[str, Any] | None:
    """Stored lines when the current rules made them from these values, else None."""
    if display is None or display.get("v") != DISPLAY_VERSION:
        return None
    if source and display.get("of") != source_digest(**source):
        return None
    return display


# The columns the lines are made of: a move or a reorder (position, section) keeps them.
_SOURCE_COLUMNS = ("title", "iocs", *TEXT_LISTS)


def _refresh(_mapper: Any, _connection: Any, item: ReportItem) -> None:
    state = inspect(item)
    if (
        current_display(item.display) is not None
        and state.persistent
        and not any(state.attrs[name].history.has_changes() for name in _SOURCE_COLUMNS)
    ):
        return
    item.display = display_lines(
        title=item.title,
        iocs=list(item.iocs or []),
        summary=list(item.summary or []),
        recommendations=list(item.recommendations or []),
        other=list(item.other or []),
        model_recommendations=list(item.model_recommendations or []),
    )


def keep_display_current() -> None:
    """Compute an item's display lines whenever it is inserted or updated (idempotent)."""
    for name in ("before_insert", "before_update"):
        if not event.contains(ReportItem, name, _refresh):
            event.listen(ReportItem, name, _refresh)
