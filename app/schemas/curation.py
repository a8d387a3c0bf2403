"""Curating a report: the bodies of POST/PATCH /reports/{date}/items and the item answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from app.models import ReportItem
from app.schemas.reports import ReportItemRead, report_item_read
from app.services.curation import ItemEdit
from app.services.pipeline import Placement
from app.services.reports import item_to_document
from app.services.reports.context import DayContext
from app.services.reports.sections import Section

MAX_TITLE = 500
MAX_LINE = 2000
MAX_LINES = 50
MAX_POSITION = 10_000


def _no_controls(text: str) -> str:
    # PostgreSQL refuses NUL in text and JSON; no other control character belongs in a
    # report line either (newlines and tabs are folded when rendered).
    if any((ord(ch) < 0x20 and ch not in "\t\n\r") or ord(ch) == 0x7F for ch in text):
        raise ValueError("control characters are not allowed")
    return text


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE),
    AfterValidator(_no_controls),
]
Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LINE),
    AfterValidator(_no_controls),
]
Lines = Annotated[list[Line], Field(max_length=MAX_LINES)]
Position = Annotated[
    int,
    Field(ge=0, le=MAX_POSITION, description="0-based place within the section (default: last)."),
]


def _link_url(url: str) -> str:
    # A report is pasted into chat and mail: its links are plain http(s) sources.
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError("not a valid URL") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("a link needs an http(s) URL with a host")
    if parts.username or parts.password:
        raise ValueError("a link may not carry credentials")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError("a URL has no spaces or control characters")
    return url


LinkUrl = Annotated[str, Field(max_length=2048), AfterValidator(_link_url)]


class ArticleItemCreate(BaseModel):
    """A URL to fetch and summarize into the report (the pipeline of POST /summarize)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["article"] = "article"
    url: str = Field(max_length=2048, description="The article to summarize.")
    section: Section | None = Field(None, description="Report section (default: by content).")
    lang: Literal["ja", "en"] | None = Field(
        None, description="Language of the summary (default SECDIGEST_LANG)."
    )
    position: Position | None = None

    def placement(self, day: dt.date, default_lang: str) -> Placement:
        """Where the pipeline puts the article."""
        return Placement(day=day, lang=self.lang or default_lang, section=self.section)


class LinkItemCreate(BaseModel):
    """A `- [title](url)` line; in an article section it is listed as such a line too."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["link"]
    title: Title
    url: LinkUrl
    section: Section = Section.MEMOS
    position: Position | None = None


def _kind_of(value: Any) -> str:
    # `kind` may be left out for a URL to summarize: the common case.
    kind = value.get("kind", "article") if isinstance(value, dict) else getattr(value, "kind", "")
    return kind if kind in ("article", "link") else "article"


ItemCreate = Annotated[
    Annotated[ArticleItemCreate, Tag("article")] | Annotated[LinkItemCreate, Tag("link")],
    Discriminator(_kind_of),
]


class IocRef(BaseModel):
    """An IOC of the item, by type and value (refanged, or the defanged form)."""

    # Extra keys ignored: an IOC object read from the report JSON can be sent back as is.
    model_config = ConfigDict(extra="ignore")

    type: str = Field(max_length=32)
    value: str = Field(max_length=MAX_LINE)


class ItemPatch(BaseModel):
    """Fields to change; those left out stay as they are.

    `iocs` is the list of IOCs to keep: each must be one the item already has, since IOCs
    are evidence found in the article (an edit may remove them, never add one). `url` can
    change only on a link item; the text lists only on a summarized entry.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "A better title", "summary": ["First point.", "Second point."]},
                {"section": "security_report", "position": 0},
                {"iocs": [{"type": "domain", "value": "evil.com"}]},
            ]
        },
    )

    title: Title | None = None
    url: LinkUrl | None = None
    summary: Lines | None = None
    recommendations: Lines | None = None
    other: Lines | None = None
    model_recommendations: Lines | None = None
    iocs: Annotated[list[IocRef], Field(max_length=10_000)] | None = None
    section: Section | None = None
    position: Position | None = None

    @model_validator(mode="after")
    def _something_not_null(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)}: leave a field out rather than send null")
        return self

    def edit(self) -> ItemEdit:
        """The service's view of the patch."""
        return ItemEdit(
            title=self.title,
            url=self.url,
            summary=self.summary,
            recommendations=self.recommendations,
            other=self.other,
            model_recommendations=self.model_recommendations,
            iocs=[(i.type, i.value) for i in self.iocs] if self.iocs is not None else None,
            section=self.section,
            position=self.position,
        )


class CuratedItemRead(ReportItemRead):
    """A report item as the report JSON shows it, with its day and place in its section."""

    date: dt.date
    position: int = Field(description="0-based place within its section.")


def curated_item_read(
    item: ReportItem, day: dt.date, context: DayContext | None = None
) -> CuratedItemRead:
    """A stored item as the curation answer (`context`: its indicators' memory)."""
    shown = report_item_read(item_to_document(item), context)
    return CuratedItemRead(**dict(shown), date=day, position=item.position)
