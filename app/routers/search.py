"""GET /search: report entries by their text."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.deps import ReadSessionDep
from app.errors import PROBLEM_JSON
from app.schemas.search import IOC_TYPE_PATTERN, SearchRead, search_read
from app.services import search as entries
from app.services.reports.sections import Section

router = APIRouter(tags=["search"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_DESCRIPTION = """\
Entries whose title, summary, notes, indicators or article text contain every term of `q`,
as substrings, case-insensitively, in English and Japanese alike. Words are separated by
spaces; `"a phrase"` in double quotes is one term; nothing else is syntax (AND, OR, NOT,
NEAR, `*`, `-`, parentheses are text). Terms of 3 characters or more use the index and are
ranked (best first, newest first on ties); with only shorter terms (`侵入`) the entries
are listed newest first. A query of single characters, over 256 characters or over 8 terms
is a 422. See docs/memory.md."""


@router.get(
    "/search",
    description=_DESCRIPTION,
    responses={
        422: {"description": "invalid-request: the query, a filter, the cursor", **_PROBLEM}
    },
)
async def search(
    session: ReadSessionDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=entries.MAX_QUERY_CHARS,
            description='Words (all must be found); "a phrase" in double quotes.',
        ),
    ],
    first: Annotated[
        date | None, Query(alias="from", description="Entries of this day or later.")
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="Entries of this day or earlier.")
    ] = None,
    section: Annotated[Section | None, Query(description="Entries of one section.")] = None,
    ioc_type: Annotated[
        str | None,
        Query(
            alias="type",
            pattern=IOC_TYPE_PATTERN,
            description="Entries with an indicator of this type (cve, ipv4, domain...).",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=entries.MAX_LIMIT, description="Entries per page.")
    ] = entries.DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> SearchRead:
    """Search the report entries by their text, best first."""
    filters = entries.SearchFilters(
        first=first, last=last, section=section.value if section else None, ioc_type=ioc_type
    )
    page = await entries.search(session, text=q, filters=filters, limit=limit, cursor=cursor)
    return search_read(page)
