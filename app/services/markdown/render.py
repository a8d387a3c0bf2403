"""ReportDocument → Markdown, from the Jinja2 template in app/templates/."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from app.services.markdown.display import current_display, display_lines, display_text
from app.services.markdown.escape import escape_url
from app.services.markdown.labels import Labels
from app.services.reports.document import DocumentItem, ItemKind, ReportDocument

_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"


@cache
def _template(name: str) -> Template:
    environment = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        # Markdown, not HTML: escaping is ours (escape_text), done before the template.
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(name)


@dataclass(frozen=True, slots=True)
class _ItemView:
    kind: str
    title: str
    url: str | None
    lists: list[tuple[str, list[str], str]]
    # Other sites' URLs for the same story, one line each under `url`, in its style.
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _SectionView:
    heading: str
    items: list[_ItemView]


def _lines(item: DocumentItem) -> dict[str, Any]:
    """The item's display lines: as stored when made by these rules from these values,
    else made now."""
    source: dict[str, Any] = {
        "title": item.title,
        "iocs": [{"defanged": ioc.defanged} for ioc in item.iocs],
        "summary": item.summary,
        "recommendations": item.recommendations,
        "other": item.other,
        "model_recommendations": item.model_recommendations,
    }
    stored = current_display(item.display, **source)
    return stored if stored is not None else display_lines(**source)


def _item_view(item: DocumentItem, labels: Labels) -> _ItemView:
    url = escape_url(item.url) if item.url else None
    lines = _lines(item)
    if item.kind == ItemKind.LINK:
        return _ItemView(kind="link", title=lines["title"], url=url or "", lists=[])
    evidence = [line for ioc, line in zip(item.iocs, lines["iocs"], strict=True) if ioc.is_evidence]
    lists = [
        (labels.summary, lines["summary"], labels.no_summary),
        (labels.iocs, evidence, labels.no_iocs),
        (labels.recommendations, lines["recommendations"], labels.no_recommendations),
        (labels.other, lines["other"], labels.no_other),
        (
            labels.model_recommendations,
            lines["model_recommendations"],
            labels.no_model_recommendations,
        ),
    ]
    sources = [escape_url(s.url) for s in item.sources] if url else []
    return _ItemView(kind="article", title=lines["title"], url=url, lists=lists, sources=sources)


def render_report(digest: ReportDocument, labels: Labels) -> str:
    """The whole day's digest as Markdown, ending with a newline."""
    sections = [
        _SectionView(
            heading=labels.sections[section],
            items=[_item_view(item, labels) for item in items],
        )
        for section, items in digest.by_section()
    ]
    return _template("digest.md.j2").render(
        title=display_text(digest.title),
        sections=sections,
        empty_section=labels.empty_section,
    )


def render_item(item: DocumentItem, labels: Labels) -> str:
    """One entry as the digest shows it (for `POST /summarize?format=md`)."""
    view = _item_view(item, labels)
    if view.kind == "link":
        return f"- [{view.title}]({view.url})\n"
    return str(_template("article.md.j2").module.article(view))  # type: ignore[attr-defined]
