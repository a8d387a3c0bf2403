"""A search: the SQL of each database, one page of entries, their snippets.

SQLite: the FTS5 trigram index (`search_fts`) finds the entries that contain every
indexed term (each a quoted FTS5 string: the user's text is never FTS5 syntax), ranked by
BM25 with the title weighing 10, the notes 4, the article 1.

PostgreSQL: the GIN trigram index finds them (`LIKE '%term%'` on the lower-cased text,
escaped), ranked by where each term is: 3 in the title, 2 in the notes, 1 anywhere, the
newest first within a score. Measured against pg_trgm's word_similarity and a plain LIKE
in `make bench-memory` (docs/memory.md): as exact as LIKE, at the cost of the match.

Both: terms the index cannot look up (1 or 2 characters) are checked in the candidates'
text; with no indexed term, entries are read newest first (an index on the day) and the
page is unranked. Pages are cut by keyset (the last entry's score, day and id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest
from app.models.types import JsonType
from app.services.search.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    Ranking,
    SearchFilters,
    SearchQuery,
    Term,
    decode_cursor,
    encode_cursor,
    fingerprint,
    parse_query,
)
from app.services.search.snippet import make_snippet

# BM25 weights of the FTS5 columns (title, notes, body).
SQLITE_WEIGHTS = (10.0, 4.0, 1.0)
# PostgreSQL: what a term adds where it is found (it is somewhere: 1).
PG_TITLE, PG_NOTES, PG_ANYWHERE = 3, 2, 1


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One entry found."""

    day: date
    item_id: int
    title: str
    url: str | None
    section: str
    snippet: str
    score: float | None  # higher is better; None when the page is newest first


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of a search, and the cursor of the next one (None: the last page)."""

    hits: list[SearchHit]
    next_cursor: str | None
    ranking: Ranking
    terms: tuple[Term, ...]


def _like(term: Term) -> str:
    """`%term%` for LIKE ... ESCAPE '\\': the term's own %, _ and \\ are literal."""
    escaped = term.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts(term: Term) -> str:
    """The term as one FTS5 string: inside double quotes only a doubled quote is special,
    so AND, OR, NOT, NEAR, *, ^, :, -, ( and ) are text."""
    return '"' + term.text.replace('"', '""') + '"'


class _Statement:
    """The conditions and parameters of one search's SQL.

    The SQL is assembled from constants and placeholders only: every value, the user's
    terms first, is a bound parameter (ruff's S608 is silenced below for that reason).
    """

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.where: list[str] = []
        self.params: dict[str, Any] = {}
        self.dates: set[str] = set()

    def bind(self, name: str, value: Any, *, is_date: bool = False) -> str:
        self.params[name] = value
        if is_date:
            self.dates.add(name)
        return f":{name}"

    def filters(self, filters: SearchFilters) -> None:
        if filters.first is not None:
            self.where.append(f"d.day >= {self.bind('first', filters.first, is_date=True)}")
        if filters.last is not None:
            self.where.append(f"d.day <= {self.bind('last', filters.last, is_date=True)}")
        if filters.section is not None:
            self.where.append(f"d.section = {self.bind('section', filters.section)}")
        if filters.ioc_type is not None:
            key = self.bind("ioc_type", f" {filters.ioc_type.lower()} ")
            find = "instr(d.ioc_types, {0})" if self.sqlite else "strpos(d.ioc_types, {0})"
            self.where.append(f"{find.format(key)} > 0")

    def checked(self, terms: tuple[Term, ...]) -> None:
        """Terms the index cannot find, looked for in the text (already lower-cased)."""
        find = "instr" if self.sqlite else "strpos"
        for number, term in enumerate(terms):
            key = f"lower({self.bind(f'check{number}', term.text)})"
            self.where.append(
                "(" + " OR ".join(f"{find}(d.{c}, {key}) > 0" for c in _COLUMNS) + ")"
            )


_COLUMNS = ("title", "notes", "body")
_ESCAPE = " ESCAPE '\\'"
_DETAILS = """
SELECT page.item_id, page.day, page.score, i.section, i.title, i.url, i.summary,
       i.recommendations, i.other, i.model_recommendations, i.iocs, a.text
FROM page
JOIN report_items AS i ON i.id = page.item_id
LEFT JOIN articles AS a ON a.id = i.article_id
"""
_RESULT_COLUMNS: tuple[sa.ColumnClause[Any], ...] = (
    sa.column("item_id", sa.Integer()),
    sa.column("day", sa.Date()),
    sa.column("score", sa.Float()),
    sa.column("section", sa.String()),
    sa.column("title", sa.Text()),
    sa.column("url", sa.Text()),
    *(
        sa.column(name, JsonType)
        for name in ("summary", "recommendations", "other", "model_recommendations", "iocs")
    ),
    sa.column("text", sa.Text()),
)


def _ranked_sql(query: SearchQuery, statement: _Statement, after: Cursor | None) -> str:
    if statement.sqlite:
        match = " ".join(_fts(term) for term in query.indexed)
        weights = ", ".join(str(weight) for weight in SQLITE_WEIGHTS)
        conditions = [f"search_fts MATCH {statement.bind('match', match)}", *statement.where]
        hits = f"""
            SELECT d.item_id AS item_id, d.day AS day, -bm25(search_fts, {weights}) AS score
            FROM search_fts JOIN search_documents AS d ON d.item_id = search_fts.rowid
            WHERE {" AND ".join(conditions)}"""  # noqa: S608 - values are bound
        # MATERIALIZED: bm25() is only allowed where the MATCH is, not in a flattened
        # query's WHERE (the cursor's condition below).
        materialized = "MATERIALIZED "
    else:
        matches: list[str] = []
        scores: list[str] = []
        for number, term in enumerate(query.indexed):
            key = f"lower({statement.bind(f'term{number}', _like(term))})"
            like = {c: f"d.{c} LIKE {key}{_ESCAPE}" for c in _COLUMNS}
            matches.append("(" + " OR ".join(like.values()) + ")")
            scores.append(
                f"{PG_TITLE} * ({like['title']})::int + {PG_NOTES} * ({like['notes']})::int"
                f" + {PG_ANYWHERE}"
            )
        hits = f"""
            SELECT d.item_id AS item_id, d.day AS day,
                   CAST({" + ".join(scores)} AS double precision) AS score
            FROM search_documents AS d
            WHERE {" AND ".join([*matches, *statement.where])}"""  # noqa: S608
        materialized = ""
    keyset = ""
    if after is not None:
        score = statement.bind("after_score", after.score)
        day = statement.bind("after_day", after.day, is_date=True)
        item = statement.bind("after_id", after.item_id)
        keyset = (
            f"WHERE score < {score} OR (score = {score} AND "
            f"(day < {day} OR (day = {day} AND item_id < {item})))"
        )
    return f"""
        WITH hits AS {materialized}({hits}),
        page AS (
            SELECT item_id, day, score FROM hits {keyset}
            ORDER BY score DESC, day DESC, item_id DESC LIMIT :fetch
        ) {_DETAILS}
        ORDER BY page.score DESC, page.day DESC, page.item_id DESC"""  # noqa: S608


def _newest_sql(statement: _Statement, after: Cursor | None) -> str:
    conditions = list(statement.where)
    if after is not None:
        day = statement.bind("after_day", after.day, is_date=True)
        item = statement.bind("after_id", after.item_id)
        conditions.append(f"(d.day, d.item_id) < ({day}, {item})")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    no_score = "NULL" if statement.sqlite else "CAST(NULL AS double precision)"
    return f"""
        WITH page AS (
            SELECT d.item_id AS item_id, d.day AS day, {no_score} AS score
            FROM search_documents AS d {where}
            ORDER BY d.day DESC, d.item_id DESC LIMIT :fetch
        ) {_DETAILS}
        ORDER BY page.day DESC, page.item_id DESC"""  # noqa: S608


def _notes(row: Any) -> str:
    """The entry's lines as the search document joins them (for the snippet)."""
    lines = [
        *row.summary,
        *row.recommendations,
        *row.other,
        *row.model_recommendations,
        *(ioc.get("value", "") for ioc in row.iocs if isinstance(ioc, dict)),
    ]
    return "\n".join(line for line in lines if isinstance(line, str))


async def search(
    session: AsyncSession,
    *,
    text: str,
    filters: SearchFilters | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> SearchPage:
    """One page of the entries that contain every term of `text`, best first.

    InvalidRequest (422) for a query that cannot be searched (query.py), a limit out of
    1..MAX_LIMIT, or a cursor that this search did not give.
    """
    query = parse_query(text)
    filters = filters or SearchFilters()
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_LIMIT}")
    key = fingerprint(query, filters)
    after = decode_cursor(cursor, key, query.ranking) if cursor else None
    statement = _Statement(session.get_bind().dialect.name == "sqlite")
    statement.filters(filters)
    statement.checked(query.checked)
    if query.ranking is Ranking.RELEVANCE:
        sql = _ranked_sql(query, statement, after)
    else:
        sql = _newest_sql(statement, after)
    statement.bind("fetch", limit + 1)
    clause = (
        sa.text(sql)
        .bindparams(*(sa.bindparam(name, type_=sa.Date()) for name in statement.dates))
        .columns(*_RESULT_COLUMNS)
    )
    if not statement.sqlite and query.ranking is Ranking.RELEVANCE:
        # The text is TOASTed: the planner sees a small table and prefers reading all of
        # it (the size of what LIKE reads is not in its costs), 20x slower than the
        # trigram index, which is never worse for a term it can look up. This
        # transaction only.
        await session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    rows = (await session.execute(clause, statement.params)).all()
    terms = [term.text for term in query.terms]
    hits = [
        SearchHit(
            day=row.day,
            item_id=row.item_id,
            title=row.title,
            url=row.url,
            section=row.section,
            snippet=make_snippet([_notes(row), row.text or "", row.title], terms),
            score=row.score,
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = hits[-1]
        next_cursor = encode_cursor(Cursor(last.score, last.day, last.item_id), key)
    return SearchPage(hits, next_cursor, query.ranking, query.terms)
