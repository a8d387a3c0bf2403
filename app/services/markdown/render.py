"""ReportDocument → Markdown, from the Jinja2 template in app/templates/."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from app.services.iocs import defang_text
from app.services.markdown.escape import escape_text, escape_url, guard_line_start
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


def _text(value: str) -> str:
    # Escape first (structure), then defang (no live indicator anywhere in the report),
    # then make sure that defanging did not leave a `[` where a definition could start.
    return guard_line_start(defang_text(escape_text(value)))


def _ioc_line(defanged: str) -> str:
    # Display forms carry intended brackets (`evil[.]com`), which escape_text leaves as
    # they are; anything else (an imported line, an `other` value) is outside text too.
    return _text(defanged)


def _item_view(item: DocumentItem, labels: Labels) -> _ItemView:
    url = escape_url(item.url) if item.url else None
    if item.kind == ItemKind.LINK:
        return _ItemView(kind="link", title=_text(item.title), url=url or "", lists=[])
    lists = [
        (labels.summary, [_text(s) for s in item.summary], labels.no_summary),
        (
            labels.iocs,
            [_ioc_line(i.defanged) for i in item.iocs if i.is_evidence],
            labels.no_iocs,
        ),
        (
            labels.recommendations,
            [_text(s) for s in item.recommendations],
            labels.no_recommendations,
        ),
        (labels.other, [_text(s) for s in item.other], labels.no_other),
        (
            labels.model_recommendations,
            [_text(s) for s in item.model_recommendations],
            labels.no_model_recommendations,
        ),
    ]
    sources = [escape_url(s.url) for s in item.sources] if url else []
    return _ItemView(kind="article", title=_text(item.title), url=url, lists=lists, sources=sources)


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
        title=_text(digest.title),
        sections=sections,
        empty_section=labels.empty_section,
    )


def render_item(item: DocumentItem, labels: Labels) -> str:
    """One entry as the digest shows it (for `POST /summarize?format=md`)."""
    view = _item_view(item, labels)
    if view.kind == "link":
        return f"- [{view.title}]({view.url})\n"
    return str(_template("article.md.j2").module.article(view))  # type: ignore[attr-defined]
