"""Feed XML to entries, safely; the keyword and URL-pattern filters. Pure: no I/O.

feedparser alone is not safe on hostile XML, and it reads a document with two parsers.
Its regular expressions take every `<!ENTITY` found at the start of a line before the
first element (in a comment, a PI or a CDATA section as well), and, if they also find one
`<!DOCTYPE` there, declare the "safe" ones (no references) again for both: expat expands
them, and when expat gives up (any text, CDATA or `<!ELEMENT` before the DOCTYPE does it)
the lenient parser expands them too, with no limit: one 50 KB entity referenced 2,000
times is a 100,000,000-character title (the quadratic blowup). A DOCTYPE that expat reads
itself runs a billion-laughs subset up to expat's amplification limit (seconds, tens of MB).

So every `<!DOCTYPE` (internal subset included) and every `<!ENTITY`, `<!ELEMENT`,
`<!ATTLIST` and `<!NOTATION` is cut from the decoded text wherever it stands, in any case,
before feedparser reads it: with neither keyword left, no parser has an entity to expand
or an external DTD to load; an undefined reference stays text. The cut is lexical on
purpose: feedparser's regular expressions do not respect comments or CDATA, so neither
may the cut. Every field that leaves the parser is bounded as well.
"""

from __future__ import annotations

import fnmatch
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8
from selectolax.lexbor import LexborHTMLParser

from app.errors import NotAFeed

# A pull of a feed never takes more than this many entries (the newest first, as feeds
# list them): an archive feed of 50,000 items is not 50,000 fetches at its first pull.
MAX_ENTRIES = 1000
# Keyword filters read this much of an entry's summary; no more markup than this is parsed
# for the text of any field.
MAX_SUMMARY_CHARS = 20_000
# Titles are stored as at most this much (feed_pull cuts the feed's own title there too).
MAX_TITLE_CHARS = 1000
# The length of URL the service stores (Article.url): a longer link is not cut (that
# would be another URL) but counted as unusable.
MAX_LINK_CHARS = 2048
# A parser's error message can quote the document (an encoding name, a content type).
MAX_DETAIL_CHARS = 300


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed: where the article is, and the text the filters read."""

    link: str
    title: str
    summary: str  # plain text


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed document holds."""

    title: str | None
    version: str  # feedparser's name of the format: rss20, atom10, rss10...
    entries: list[FeedEntry]
    # The XML was broken and read by the lenient parser: entries may be incomplete.
    malformed: bool = False
    # Entries without a usable http(s) link: counted, never fetched.
    unlinked: int = 0


# ---------------------------------------------------------------------------- declarations

# Everything that declares or structures a DTD. DOCTYPE and ENTITY are what the parsers
# act on; the others mean nothing outside a DTD and go so that no half of one is left.
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
# Inside a declaration a ">" does not end it when quoted, commented, in a PI or in the
# internal subset; these are the tokens that say which.
_DECLARATION_PART = re.compile(rb"[\"'\[\]>]|<!--|<\?")
_CLOSERS = {b'"': b'"', b"'": b"'", b"<!--": b"-->", b"<?": b"?>"}


def _declaration_end(data: bytes, start: int) -> int:
    """Index just past the declaration opening at `start` (internal subset included), or -1."""
    i, in_subset = start + 2, False
    while (part := _DECLARATION_PART.search(data, i)) is not None:
        token, i = part.group(), part.end()
        closer = _CLOSERS.get(token)
        if closer is not None:
            end = data.find(closer, i)
            if end < 0:
                return -1
            i = end + len(closer)
        elif token == b"[":
            in_subset = True
        elif token == b"]":
            in_subset = False
        elif not in_subset:  # ">"
            return i
    return -1


def strip_declarations(data: bytes) -> bytes:
    """The document without any DOCTYPE or markup declaration, wherever it stands.

    Each declaration becomes one space, so that the text around it cannot join into a new
    one (`<!DOC<!ENTITY a "">TYPE`): the keywords hold no space, and none starts in the
    text kept, so none is left at all. An unterminated declaration loses its keyword only,
    and from there on every keyword is cut alone: no end is searched twice over the same
    bytes, so the cut stays linear on any input, and nothing after it is lost.
    """
    out: list[bytes] = []
    i = 0
    while (found := _DECLARATION.search(data, i)) is not None:
        out.append(data[i : found.start()])
        end = _declaration_end(data, found.start())
        if end < 0:
            out.append(_DECLARATION.sub(b" ", data[found.start() :]))
            return b"".join(out)
        out.append(b" ")
        i = end
    out.append(data[i:])
    return b"".join(out)


# ---------------------------------------------------------------------------- parsing


def _text(markup: object, limit: int) -> str:
    # Sliced before anything else: a field is never copied whole, however long it is.
    html = str(markup or "")[:MAX_SUMMARY_CHARS]
    if "<" not in html and "&" not in html:
        return html.strip()[:limit]
    root = LexborHTMLParser(html).body
    return " ".join((root.text(separator=" ") if root else "").split())[:limit]


def _link(entry: Any, base: str) -> str | None:
    # FeedBurner rewrites links to its click counter; the original is the article.
    candidates = [entry.get("feedburner_origlink"), entry.get("link")]
    candidates += [
        link.get("href") for link in entry.get("links", []) if link.get("rel") == "alternate"
    ]
    candidates.append(entry.get("id"))  # Atom ids are often the article's URL
    for candidate in candidates:
        if not isinstance(candidate, str) or len(candidate) > MAX_LINK_CHARS:
            continue
        stripped = candidate.strip()
        if not stripped:
            continue
        absolute = urljoin(base, stripped)
        if urlsplit(absolute).scheme in ("http", "https") and len(absolute) <= MAX_LINK_CHARS:
            return absolute
    return None


def _summary(entry: Any) -> str:
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value") or ""
    return _text(summary, MAX_SUMMARY_CHARS)


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """RSS 0.9x/1.0/2.0 or Atom bytes to entries; NotAFeed when nothing is readable."""
    # Decoded the way feedparser decodes (HTTP charset, BOM, XML declaration), so that the
    # declarations are found whatever the encoding (UTF-16, UTF-32, EBCDIC); the result is
    # UTF-8 declared as such, which feedparser then reads as it is.
    scratch: dict[str, Any] = {}
    headers = {"content-type": content_type} if content_type else {}
    utf8 = convert_to_utf8(headers, body, scratch)
    result = feedparser.parse(
        io.BytesIO(strip_declarations(utf8)),  # a stream: a str would be taken for a URL
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": url,  # the base of relative links
        },
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    entries: list[FeedEntry] = []
    unlinked = 0
    for entry in result.entries[:MAX_ENTRIES]:
        link = _link(entry, url)
        if link is None:
            unlinked += 1
            continue
        title = _text(entry.get("title"), MAX_TITLE_CHARS) or link
        entries.append(FeedEntry(link=link, title=title, summary=_summary(entry)))
    version = str(result.get("version") or "")[:32]
    if not version and not entries:
        reason = str(result.get("bozo_exception") or "")[:MAX_DETAIL_CHARS]
        detail = f"no RSS or Atom in the answer from {url}"
        raise NotAFeed(f"{detail}: {reason}" if reason else detail)
    feed_title = _text(result.feed.get("title"), MAX_TITLE_CHARS) or None
    return ParsedFeed(
        title=feed_title,
        version=version or "unknown",
        entries=entries,
        malformed=bool(result.get("bozo")) and _is_syntax_error(result.get("bozo_exception")),
        unlinked=unlinked,
    )


def _is_syntax_error(error: object) -> bool:
    # feedparser also sets bozo for a charset it had to guess or a text/html label: the
    # document is fine then. Only broken XML makes the entries doubtful.
    name = type(error).__name__
    return name in ("SAXParseException", "SAXException") or "not well-formed" in str(error)


# ---------------------------------------------------------------------------- filters


def _fold(text: str) -> str:
    # Full-width letters and case do not matter to a reader: "ＶＰＮ" is "vpn".
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """A feed's filters: any keyword in title or summary, and any URL pattern, must match.

    URL patterns are globs (fnmatch), not regular expressions: a pattern is user input that
    the service runs on every entry, and a backtracking regex could hold a worker for
    minutes. A pattern starting with `/` is matched against the path (and query) only,
    any other against the whole URL: `/news/*`, `https://*.example.com/security/*`.
    """

    keywords: tuple[str, ...] = ()
    url_patterns: tuple[str, ...] = ()

    @classmethod
    def of(cls, keywords: Iterable[str], url_patterns: Iterable[str]) -> EntryFilter:
        """A filter from stored lists (empty strings ignored)."""
        return cls(
            tuple(_fold(k.strip()) for k in keywords if k.strip()),
            tuple(p.strip() for p in url_patterns if p.strip()),
        )

    def accepts(self, entry: FeedEntry) -> bool:
        """Whether the entry passes both filters (an empty filter passes everything)."""
        return self._url_ok(entry.link) and self._keywords_ok(entry)

    def _keywords_ok(self, entry: FeedEntry) -> bool:
        if not self.keywords:
            return True
        text = _fold(f"{entry.title}\n{entry.summary}")
        return any(keyword in text for keyword in self.keywords)

    def _url_ok(self, link: str) -> bool:
        if not self.url_patterns:
            return True
        parts = urlsplit(link)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return any(
            fnmatch.fnmatchcase(path if pattern.startswith("/") else link, pattern)
            for pattern in self.url_patterns
        )
