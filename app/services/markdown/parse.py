"""Markdown → ReportDocument: the one parser of the digest format, the inverse of the renderer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from app.errors import MarkdownError
from app.services.iocs import find_iocs, refang
from app.services.markdown.escape import unescape_text
from app.services.markdown.labels import LABELS
from app.services.reports.document import (
    DocumentIoc,
    DocumentItem,
    DocumentSource,
    ItemKind,
    ReportDocument,
)
from app.services.reports.sections import Section

# A link title may hold balanced brackets: the defanged indicators of its text (`evil[.]com`).
# The three alternatives never match the same character, so a hostile line cannot make the
# expression backtrack.
_LINK = re.compile(
    r"^- \[(?P<title>(?:\\.|\[(?:\\.|[^\[\]\\])*\]|[^\[\]\\])*)\]\((?P<url>[^\s)]*)\)\s*$"
)
_SOURCE = re.compile(r"^https?://\S+$", re.IGNORECASE)
_ENTRY = re.compile(r"^(?: {4}|\t)- ?(?P<text>.*)$")
_LIST_COUNT = 5


def _section_lookup() -> dict[str, Section]:
    lookup: dict[str, Section] = {}
    for labels in LABELS.values():
        for section, heading in labels.sections.items():
            lookup[heading.casefold()] = section
    for section in Section:
        lookup[section.value.casefold()] = section
    return lookup


_SECTIONS = _section_lookup()
_EMPTY_SECTION = {labels.empty_section for labels in LABELS.values()}
# What an empty list says, per list position (summary, iocs, recommendations, other, model).
_EMPTY_MARKERS: tuple[frozenset[str], ...] = tuple(
    frozenset(getattr(labels, name) for labels in LABELS.values())
    for name in (
        "no_summary",
        "no_iocs",
        "no_recommendations",
        "no_other",
        "no_model_recommendations",
    )
)


@dataclass(slots=True)
class _OpenArticle:
    item: DocumentItem
    lists: list[list[str]] = field(default_factory=list)

    def finish(self) -> DocumentItem:
        lists = [*self.lists, *([] for _ in range(_LIST_COUNT - len(self.lists)))]
        cleaned = [
            [] if len(entries) == 1 and entries[0] in _EMPTY_MARKERS[index] else entries
            for index, entries in enumerate(lists)
        ]
        summary, iocs, recommendations, other, model = cleaned
        self.item.summary = [unescape_text(s) for s in summary]
        self.item.iocs = [_parse_ioc(line) for line in iocs]
        self.item.recommendations = [unescape_text(s) for s in recommendations]
        self.item.other = [unescape_text(s) for s in other]
        self.item.model_recommendations = [unescape_text(s) for s in model]
        return self.item


def _parse_ioc(escaped: str) -> DocumentIoc:
    line = unescape_text(escaped)
    found = find_iocs(line)
    if len(found) >= 1 and found[0].raw.strip() == line.strip():
        return DocumentIoc(type=found[0].type.value, value=found[0].value, defanged=line)
    # Not an indicator the engine recognises: kept as the analyst wrote it.
    return DocumentIoc(type="other", value=refang(line), defanged=line)


def parse_report(markdown: str, *, day: date | None = None) -> ReportDocument:
    """Read a digest written in the sample's format; MarkdownError names the first bad line."""
    digest = ReportDocument(day=day)
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    section: Section | None = None
    article: _OpenArticle | None = None
    seen_title = False

    def close() -> None:
        nonlocal article
        if article is not None:
            digest.items.append(article.finish())
            article = None

    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            if article is not None and article.lists:
                close()
            continue
        if not seen_title:
            if not line.startswith("# "):
                raise MarkdownError(f"line {number}: a digest starts with '# <title>'")
            digest.title = unescape_text(line[2:].strip())
            seen_title = True
            continue
        if line.startswith("### "):
            close()
            heading = line[4:].strip()
            found = _SECTIONS.get(heading.casefold())
            if found is None:
                raise MarkdownError(f"line {number}: unknown section {heading!r}")
            section = found
            continue
        if section is None:
            raise MarkdownError(f"line {number}: text before the first '### <section>'")
        if line.startswith("#### "):
            close()
            title = unescape_text(line[5:].strip())
            article = _OpenArticle(
                DocumentItem(kind=ItemKind.ARTICLE, section=section, title=title)
            )
            continue
        if article is not None:
            entry = _ENTRY.match(line)
            if entry:
                if not article.lists:
                    raise MarkdownError(f"line {number}: a list entry before its heading")
                article.lists[-1].append(entry.group("text").strip())
                continue
            if line.startswith("- "):
                if len(article.lists) == _LIST_COUNT:
                    raise MarkdownError(f"line {number}: an article entry has five lists")
                article.lists.append([])
                continue
            if not article.lists and article.item.url is None:
                article.item.url = stripped
                continue
            if not article.lists and _SOURCE.match(stripped):
                # More lines of URLs: other sites that published the same story.
                article.item.sources.append(DocumentSource(url=stripped))
                continue
            raise MarkdownError(f"line {number}: unexpected text in an article entry")
        if stripped in _EMPTY_SECTION:
            continue
        link = _LINK.match(line)
        if link:
            digest.items.append(
                DocumentItem(
                    kind=ItemKind.LINK,
                    section=section,
                    title=unescape_text(link.group("title")),
                    url=link.group("url"),
                )
            )
            continue
        raise MarkdownError(f"line {number}: expected '#### <title>' or '- [title](url)'")
    close()
    if not seen_title:
        raise MarkdownError("the document is empty")
    return digest
