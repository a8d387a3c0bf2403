"""What a digest becomes in a CommonMark viewer: its links, images and raw HTML.

markdown-it-py with its `commonmark` preset is the reference reader: no linkify, no tables,
exactly the constructs the spec defines (link reference definitions included).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

_READER = MarkdownIt("commonmark")


@dataclass(slots=True)
class Rendered:
    """The active parts of a document as a CommonMark viewer shows it."""

    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    text: str = ""


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def read(markdown: str) -> Rendered:
    """Parse `markdown` as CommonMark and list what would be live in the HTML."""
    rendered = Rendered(text=_READER.render(markdown))
    for token in _walk(_READER.parse(markdown)):
        if token.type == "link_open":
            rendered.links.append(str(token.attrGet("href")))
        elif token.type == "image":
            rendered.images.append(str(token.attrGet("src")))
        elif token.type in ("html_block", "html_inline"):
            rendered.html.append(token.content)
    return rendered


def href(url: str) -> str:
    """How the reader writes `url` into an href (percent-encoding normalised)."""
    return _READER.normalizeLink(url)
