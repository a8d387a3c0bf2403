"""What a search asks for: its terms, its filters, where its next page starts. Pure.

The query is never handed to a search engine's syntax: it is cut into literal terms here,
and each term is matched as a substring (case-insensitive) of an entry's text.

- Words are separated by white space (ASCII or the ideographic space U+3000). A text in
  double quotes ("..." or “...”) is one term, spaces included: a phrase.
- Every term must be found (AND). There are no operators: OR, AND, NOT, NEAR, `-`, `+`,
  `(`, `)`, `:`, `^` are matched as written; a stray double quote is dropped.
- A term matches anywhere in a word: `ransom` finds `ransomware`, `ware` too. A `*` at
  either end of a word is dropped (every word is a prefix already).
- Control and format characters (NUL, BEL, zero-width, bidi overrides...) separate words.

The index is made of trigrams (3 characters). A term with a run of 3 word characters is
looked up in it; shorter terms (1 or 2 characters: `侵入`, `AI`) and punctuation-only
ones (`C++`) are checked in the entries the other terms found. When no term can use the
index (`侵入`, `逮捕 詐欺`), the search reads the entries newest first and answers them
in that order, unranked. A query of 1-character terms only is refused (422): too common
to mean anything, and it would read every entry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.errors import InvalidRequest

# A search box's text, not a document: longer is a paste gone wrong, or an attack on the
# matcher's time (each term costs a pass over the candidates).
MAX_QUERY_CHARS = 256
MAX_TERMS = 8
# Trigrams: a term needs 3 characters to be looked up in the index.
INDEX_CHARS = 3
# Shorter than this, a query answers nothing useful (a 1-character one: every entry).
MIN_QUERY_CHARS = 2
MAX_LIMIT = 100
DEFAULT_LIMIT = 20

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "＂": '"'})
_PIECES = re.compile(r'"([^"]*)"|([^\s"]+)')
_INDEXABLE = re.compile(r"\w{3}")
_SPACE = re.compile(r"\s+")


class Ranking(StrEnum):
    """How a page is ordered."""

    RELEVANCE = "relevance"  # by score, newest first on ties
    NEWEST = "newest"  # no term could use the index: newest first, no score


@dataclass(frozen=True, slots=True)
class Term:
    """One literal substring that an entry must contain."""

    text: str
    phrase: bool = False

    @property
    def indexed(self) -> bool:
        """Whether the trigram index can find it: a run of 3 word characters."""
        return _INDEXABLE.search(self.text) is not None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """The terms of a search, in the order given, each once."""

    terms: tuple[Term, ...]

    @property
    def indexed(self) -> tuple[Term, ...]:
        """The terms looked up in the index."""
        return tuple(term for term in self.terms if term.indexed)

    @property
    def checked(self) -> tuple[Term, ...]:
        """The terms checked in the text of the entries the index found (or of all)."""
        return tuple(term for term in self.terms if not term.indexed)

    @property
    def ranking(self) -> Ranking:
        """Ranked when the index takes part; newest first otherwise."""
        return Ranking.RELEVANCE if self.indexed else Ranking.NEWEST


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What entries may answer, besides the terms: days (inclusive), a section, an IOC type."""

    first: date | None = None
    last: date | None = None
    section: str | None = None
    ioc_type: str | None = None

    def __post_init__(self) -> None:
        if self.first and self.last and self.first > self.last:
            raise InvalidRequest(
                f"from ({self.first.isoformat()}) is after to ({self.last.isoformat()})"
            )


def _clean(text: str) -> str:
    # NUL (which PostgreSQL refuses in text), other control characters and invisible
    # format characters become spaces: a word never hides one.
    return "".join(
        " " if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") else char
        for char in text
    )


def parse_query(raw: str) -> SearchQuery:
    """The terms of a search box's text; InvalidRequest (422) when it cannot be searched."""
    if len(raw) > MAX_QUERY_CHARS:
        raise InvalidRequest(
            f"the query has {len(raw)} characters; a search takes at most {MAX_QUERY_CHARS}"
        )
    text = _clean(raw).translate(_QUOTES)
    terms: list[Term] = []
    seen: set[str] = set()
    for phrase, word in _PIECES.findall(text):
        if phrase:
            term = Term(_SPACE.sub(" ", phrase).strip(), phrase=" " in phrase.strip())
        else:
            term = Term(word.strip("*"))
        key = term.text.casefold()
        if term.text and key not in seen:
            seen.add(key)
            terms.append(term)
    if not terms:
        raise InvalidRequest("the query is empty: give a word to search for")
    if len(terms) > MAX_TERMS:
        raise InvalidRequest(
            f"the query has {len(terms)} terms; a search takes at most {MAX_TERMS}"
        )
    if max(len(term.text) for term in terms) < MIN_QUERY_CHARS:
        raise InvalidRequest(
            f"search words need at least {MIN_QUERY_CHARS} characters (a 1-character word "
            f"matches nearly every entry); {INDEX_CHARS} or more are ranked by relevance"
        )
    return SearchQuery(tuple(terms))


# ------------------------------------------------------------------------------ cursor


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after this entry, in the page's order."""

    score: float | None  # None when the ranking is newest first
    day: date
    item_id: int


def fingerprint(query: SearchQuery, filters: SearchFilters) -> str:
    """A short digest of a search: a cursor is only good for the search that gave it."""
    shape = [
        [[term.text, term.phrase] for term in query.terms],
        [
            filters.first and filters.first.isoformat(),
            filters.last and filters.last.isoformat(),
            filters.section,
            filters.ioc_type,
        ],
    ]
    encoded = json.dumps(shape, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:12]


def encode_cursor(cursor: Cursor, search: str) -> str:
    """An opaque token (URL-safe): the last entry of a page and the search's fingerprint."""
    raw = json.dumps([search, cursor.score, cursor.day.isoformat(), cursor.item_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_MAX_CURSOR_CHARS = 200
_MAX_ID = 2**31 - 1


def decode_cursor(token: str, search: str, ranking: Ranking) -> Cursor:
    """The cursor of a token this search gave; InvalidRequest for anything else."""
    bad = InvalidRequest("cursor: not a cursor that this search gave (start again without it)")
    if len(token) > _MAX_CURSOR_CHARS:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad from exc
    if not (isinstance(value, list) and len(value) == 4):
        raise bad
    given, score, day, item_id = value
    if given != search:
        raise InvalidRequest("cursor: it belongs to another search (same terms and filters)")
    ranked = ranking is Ranking.RELEVANCE
    if ranked != isinstance(score, float) or (ranked and not math.isfinite(score)):
        raise bad
    if not isinstance(day, str) or not isinstance(item_id, int) or isinstance(item_id, bool):
        raise bad
    if not 1 <= item_id <= _MAX_ID:
        raise bad
    try:
        parsed_day = date.fromisoformat(day)
    except ValueError as exc:
        raise bad from exc
    return Cursor(score if ranked else None, parsed_day, item_id)
