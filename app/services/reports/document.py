"""The daily digest as plain values: what the Markdown renderer and parser exchange.

Rendering and parsing work on these, never on ORM rows, so both stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from app.services.reports.sections import SECTION_ORDER, Section


class ItemKind(StrEnum):
    """An article entry (title, URL, five lists) or a link line (`- [title](url)`)."""

    ARTICLE = "article"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class DocumentIoc:
    """An IOC as a report shows it."""

    type: str
    value: str  # refanged
    defanged: str  # exactly as the Markdown shows it
    flags: tuple[str, ...] = ()  # see app/services/iocs/flags.py

    @property
    def is_evidence(self) -> bool:
        """Whether the digest lists it: well-known and the page's own names are not."""
        return "benign" not in self.flags and "source-site" not in self.flags

    @classmethod
    def of(cls, stored: dict[str, Any]) -> DocumentIoc:
        """The IOC of a report item's stored `iocs` (type, value, defanged, flags)."""
        return cls(
            stored["type"], stored["value"], stored["defanged"], tuple(stored.get("flags", ()))
        )


@dataclass(frozen=True, slots=True)
class DocumentSource:
    """Another site's article about the same story, merged into an entry."""

    url: str
    title: str | None = None  # the Markdown shows URLs only: an import has no titles


@dataclass(slots=True)
class DocumentItem:
    """One entry of the digest."""

    kind: ItemKind
    section: Section
    title: str
    url: str | None = None
    summary: list[str] = field(default_factory=list)
    iocs: list[DocumentIoc] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    model_recommendations: list[str] = field(default_factory=list)
    # Beyond `url`, in the order they were merged.
    sources: list[DocumentSource] = field(default_factory=list)
    id: int | None = None
    article_id: int | None = None
    # The stored Markdown lines of the item (report_items.display), when it has them.
    display: dict[str, Any] | None = None


@dataclass(slots=True)
class ReportDocument:
    """A day's digest: items in report order."""

    day: date | None
    items: list[DocumentItem] = field(default_factory=list)
    title: str = "Daily Security Info"

    def section_items(self, section: Section) -> list[DocumentItem]:
        """The items of one section, in order."""
        return [item for item in self.items if item.section == section]

    def by_section(self) -> list[tuple[Section, list[DocumentItem]]]:
        """Every section in report order with its items (empty lists included)."""
        return [(section, self.section_items(section)) for section in SECTION_ORDER]
