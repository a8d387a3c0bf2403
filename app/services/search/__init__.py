"""Search over the report entries: titles, summaries, notes and article text.

Public surface:
- `search(session, *, text, filters=, limit=, cursor=)` -> `SearchPage` of `SearchHit`s
  (`engine`): ranked, newest first on ties, cut into pages by an opaque cursor
- `parse_query(text)` -> `SearchQuery` of `Term`s; `SearchFilters` (days, section, IOC
  type); `Ranking`; `MAX_QUERY_CHARS`, `MAX_LIMIT`, `DEFAULT_LIMIT` (`query`): what a
  query means (phrases, no operators, short terms) is written there
- `make_snippet(texts, terms)`, `MARK_OPEN`, `MARK_CLOSE` (`snippet`): plain text with «»
  around the terms

The index itself is the database's (migration c2search00001): FTS5 with the trigram
tokenizer on SQLite, pg_trgm on PostgreSQL, kept in step by triggers in the transaction
of every write. docs/memory.md says how it behaves and what it costs.
"""

from app.services.search.engine import SearchHit, SearchPage, search
from app.services.search.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    Ranking,
    SearchFilters,
    SearchQuery,
    Term,
    parse_query,
)
from app.services.search.snippet import MARK_CLOSE, MARK_OPEN, make_snippet

__all__ = [
    "DEFAULT_LIMIT",
    "MARK_CLOSE",
    "MARK_OPEN",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "Ranking",
    "SearchFilters",
    "SearchHit",
    "SearchPage",
    "SearchQuery",
    "Term",
    "make_snippet",
    "parse_query",
    "search",
]
