"""Feed XML to entries, safely; the keyword and URL-pattern filters. Pure: no I/O.

feedparser alone is not safe on hostile XML. It removes only the entity declarations its
regular expressions find at the start of a line and puts "safe" ones (no references) back,
so one 50 KB entity referenced 2,000 times expands to 100 MB in its fallback parser (the
quadratic blowup), and a billion-laughs subset on one line runs expat up to its
amplification limit (seconds, tens of MB). Every DOCTYPE is therefore cut from the prolog
before feedparser sees the bytes: without a DTD no entity is declared, so none can expand
and no external one can be loaded; an undefined reference stays text.
"""

from __future__ import annotations

import fnmatch
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8
from selectolax.lexbor import LexborHTMLParser

from app.errors import SecdigestError

# A pull of a feed never takes more than this many entries (the newest first, as feeds
# list them): an archive feed of 50,000 items is not 50,000 fetches at its first pull.
MAX_ENTRIES = 1000
# Keyword filters read this much of an entry's summary.
MAX_SUMMARY_CHARS = 20_000


class NotAFeed(SecdigestError):
    """The URL answered, but with neither RSS nor Atom that any entry could be read from."""

    status_code: ClassVar[int] = 422
    slug: ClassVar[str] = "not-a-feed"
    title: ClassVar[str] = "Not an RSS or Atom feed"


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


# ---------------------------------------------------------------------------- DOCTYPE


def _skip_quoted(data: bytes, i: int) -> int:
    end = data.find(data[i : i + 1], i + 1)
    return -1 if end < 0 else end + 1


def _doctype_end(data: bytes, start: int) -> int:
    """Index just past the DOCTYPE starting at `start` (internal subset included), or -1."""
    i, in_subset = start + len(b"<!DOCTYPE"), False
    while i < len(data):
        if data[i : i + 1] in (b'"', b"'"):
            i = _skip_quoted(data, i)
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            i = -1 if end < 0 else end + 3
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            i = -1 if end < 0 else end + 2
        else:
            char = data[i : i + 1]
            if char == b"[":
                in_subset = True
            elif char == b"]":
                in_subset = False
            elif char == b">" and not in_subset:
                return i + 1
            i += 1
        if i < 0:
            return -1
    return -1


def strip_doctype(data: bytes) -> bytes:
    """The document without any DOCTYPE in its prolog (and so without entity declarations).

    The prolog is walked as XML defines it (declaration, comments, processing instructions,
    DOCTYPE) up to the first element; an unterminated DOCTYPE takes the rest with it.
    """
    out: list[bytes] = []
    i = 0
    while i < len(data):
        rest = data[i:]
        stripped = rest.lstrip()
        i += len(rest) - len(stripped)
        if data[i : i + 9].upper() == b"<!DOCTYPE":
            end = _doctype_end(data, i)
            if end < 0:
                return b"".join(out)
            i = end
            continue
        if data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            end = len(data) if end < 0 else end + 3
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            end = len(data) if end < 0 else end + 2
        else:
            break
        out.append(data[i:end])
        i = end
    return b"".join(out) + data[i:]


# ---------------------------------------------------------------------------- parsing


def _text(html: str) -> str:
    if "<" not in html and "&" not in html:
        return html.strip()
    root = LexborHTMLParser(html[:MAX_SUMMARY_CHARS]).body
    return " ".join((root.text(separator=" ") if root else "").split())


def _link(entry: Any, base: str) -> str | None:
    # FeedBurner rewrites links to its click counter; the original is the article.
    candidates = [entry.get("feedburner_origlink"), entry.get("link")]
    candidates += [
        link.get("href") for link in entry.get("links", []) if link.get("rel") == "alternate"
    ]
    candidates.append(entry.get("id"))  # Atom ids are often the article's URL
    for candidate in candidates:
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        absolute = urljoin(base, candidate.strip())
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return None


def _summary(entry: Any) -> str:
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value") or ""
    return _text(str(summary))


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """RSS 0.9x/1.0/2.0 or Atom bytes to entries; NotAFeed when nothing is readable."""
    # Decoded the way feedparser decodes (HTTP charset, BOM, XML declaration), so that the
    # DOCTYPE is found whatever the encoding; the result is UTF-8 declared as such.
    scratch: dict[str, Any] = {}
    headers = {"content-type": content_type} if content_type else {}
    utf8 = convert_to_utf8(headers, body, scratch)
    result = feedparser.parse(
        io.BytesIO(strip_doctype(utf8)),  # a stream: a str would be taken for a URL or path
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
        title = _text(str(entry.get("title") or "")) or link
        entries.append(FeedEntry(link=link, title=title, summary=_summary(entry)))
    version = str(result.get("version") or "")
    if not version and not entries:
        reason = result.get("bozo_exception")
        detail = f"no RSS or Atom in the answer from {url}"
        raise NotAFeed(f"{detail}: {reason}" if reason else detail)
    feed_title = _text(str(result.feed.get("title") or "")) or None
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
