"""ReportDocument → one self-contained HTML page (app/templates/day.html.j2). Pure.

The page shows what the Markdown digest shows, in the same order under the same headings,
with the same indicators left out (`DocumentIoc.is_evidence`) and every indicator in the
text defanged. Text from pages and models reaches the template as plain strings, which
Jinja2 escapes; only http(s) URLs become links. The page loads nothing: its one style and
one script are the files next to this module, allowed by hash in CONTENT_SECURITY_POLICY.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from app.services.iocs import defang_text
from app.services.markdown import Labels
from app.services.reports.document import DocumentItem, ItemKind, ReportDocument

MEDIA_TYPE = "text/html; charset=utf-8"

_HERE = Path(__file__).resolve().parent
_TEMPLATES = _HERE.parent.parent / "templates"
STYLE = (_HERE / "day.css").read_text(encoding="utf-8")
SCRIPT = (_HERE / "day.js").read_text(encoding="utf-8")
# An empty icon: without one the browser asks the server for /favicon.ico.
ICON = "data:,"


def source_hash(text: str) -> str:
    """The CSP source that allows one inline style or script with exactly this text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# Nothing but the page's own style and script; no fetch, frame, form or base can be added,
# and no other site may frame the page (clickjacking on the copy buttons).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        f"style-src {source_hash(STYLE)}",
        f"script-src {source_hash(SCRIPT)}",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_WHITESPACE = re.compile(r"\s+")
# A link target: http(s), with a host, and nothing a browser would strip or reinterpret
# (whitespace, controls, backslashes). Anything else is shown as text.
_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f\\/?#][^\s\x00-\x1f\x7f\\]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Words:
    """What the page says besides the digest's own labels."""

    previous: str
    next: str
    days: str
    sources: str
    copy: str
    copied: str
    failed: str


_WORDS = {
    "ja": _Words(
        "前の日", "次の日", "日付", "同じ話題の記事", "コピー", "コピーしました", "コピーできません"
    ),
    "en": _Words("Previous day", "Next day", "Days", "Same story", "Copy", "Copied", "Copy failed"),
}


@dataclass(frozen=True, slots=True)
class _Link:
    text: str
    href: str | None  # None: not a web URL, shown as text
    url: str = ""  # shown after the text when it is not a link


@dataclass(frozen=True, slots=True)
class _Ioc:
    shown: str  # defanged, invisible characters made visible
    copy: str  # refanged: what the button puts on the clipboard


@dataclass(frozen=True, slots=True)
class _Part:
    heading: str
    lines: list[str] | list[_Ioc]
    empty: str
    iocs: bool = False


@dataclass(frozen=True, slots=True)
class _Article:
    title: _Link
    sources: list[_Link]
    parts: list[_Part]
    links: None = None  # a block that is not a list of links


@dataclass(frozen=True, slots=True)
class _Links:
    links: list[_Link]


@dataclass(frozen=True, slots=True)
class _SectionView:
    key: str
    heading: str
    blocks: list[_Article | _Links]


@cache
def _template() -> Template:
    environment = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("day.html.j2")


def _text(value: str) -> str:
    """Outside text as the digest shows it: one line, every network indicator defanged."""
    return defang_text(_WHITESPACE.sub(" ", value).strip())


def _visible(value: str) -> str:
    """An indicator with its invisible characters (bidi overrides, zero widths) spelled out:
    what is shown must read as what is copied."""
    return "".join(
        f"<U+{ord(char):04X}>" if unicodedata.category(char) in ("Cf", "Cc") else char
        for char in value
    )


def web_url(url: str | None) -> str | None:
    """`url` when it may be a link's target (http or https), else None."""
    if url and _WEB_URL.fullmatch(url):
        return url
    return None


def _link(text: str, url: str | None) -> _Link:
    href = web_url(url)
    shown = "" if href else _WHITESPACE.sub(" ", url or "").strip()
    return _Link(text, href, "" if shown == text else shown)


def _article(item: DocumentItem, labels: Labels) -> _Article:
    title = _text(item.title)
    sources = [
        # The Markdown lists the other sites' URLs; a title, when merged with one, helps.
        _link(_text(source.title) if source.title else source.url, source.url)
        for source in item.sources
    ]
    iocs = [_Ioc(_visible(_text(i.defanged)), i.value) for i in item.iocs if i.is_evidence]
    parts = [
        _Part(labels.summary, [_text(line) for line in item.summary], labels.no_summary),
        _Part(labels.iocs, iocs, labels.no_iocs, iocs=True),
        _Part(
            labels.recommendations,
            [_text(line) for line in item.recommendations],
            labels.no_recommendations,
        ),
        _Part(labels.other, [_text(line) for line in item.other], labels.no_other),
        _Part(
            labels.model_recommendations,
            [_text(line) for line in item.model_recommendations],
            labels.no_model_recommendations,
        ),
    ]
    # Like the Markdown: an entry without a URL has no source lines either.
    return _Article(_link(title, item.url), sources if item.url else [], parts)


def _blocks(items: list[DocumentItem], labels: Labels) -> list[_Article | _Links]:
    """Entries in order; consecutive link lines form one list, as in the Markdown."""
    blocks: list[_Article | _Links] = []
    for item in items:
        if item.kind == ItemKind.LINK:
            link = _link(_text(item.title), item.url)
            if blocks and isinstance(blocks[-1], _Links):
                blocks[-1].links.append(link)
            else:
                blocks.append(_Links([link]))
        else:
            blocks.append(_article(item, labels))
    return blocks


def _neighbour(day: date | None) -> _Link | None:
    # Relative to /reports/: right wherever the service is mounted.
    return _Link(day.isoformat(), f"{day.isoformat()}?format=html") if day else None


def render_day_html(
    document: ReportDocument,
    labels: Labels,
    *,
    lang: str,
    previous_day: date | None,
    next_day: date | None,
) -> str:
    """The day's digest as one HTML page (UTF-8 text, self-contained).

    `labels` and `lang` as for the Markdown (`labels_for(lang, ...)`); `previous_day` and
    `next_day` are the nearest days that have a report, linked relatively to
    `/reports/{day}`: pass None where there is no such day or no server to link to (an
    e-mail). Serve it with CONTENT_SECURITY_POLICY, which allows its inline style and
    script by hash; in an e-mail the script is simply not run (the page reads without it).
    """
    sections = [
        _SectionView(
            key=section.value, heading=labels.sections[section], blocks=_blocks(items, labels)
        )
        for section, items in document.by_section()
    ]
    return _template().render(
        lang=lang,
        title=_text(document.title),
        day=document.day.isoformat() if document.day else "",
        words=_WORDS.get(lang, _WORDS["ja"]),
        previous=_neighbour(previous_day),
        next=_neighbour(next_day),
        sections=sections,
        empty_section=labels.empty_section,
        icon=ICON,
        # Our own files, inserted as written: their hashes are in the policy.
        style=Markup(STYLE),  # noqa: S704
        script=Markup(SCRIPT),  # noqa: S704
    )
