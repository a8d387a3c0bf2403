"""GET /search: one page of entries found."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from app.services.iocs.finder import IocType
from app.services.reports.sections import Section
from app.services.search import SearchPage

# What `type=` may name: the types the IOC rules give, and `other` (an imported line no
# rule recognises).
IOC_TYPES = (*(kind.value for kind in IocType), "other")
IOC_TYPE_PATTERN = f"^({'|'.join(IOC_TYPES)})$"


class SearchHitRead(BaseModel):
    """An entry that contains every term."""

    date: dt.date = Field(description="The day of the report the entry is in.")
    item_id: int = Field(description="The entry's id: GET /reports/{date}/items/{item_id}.")
    title: str
    url: str | None
    section: Section
    snippet: str = Field(
        description="Plain text around the terms, each found term between « and » (U+00AB, "
        "U+00BB); the entry's own « and » are shown as ‹ and ›. Split on the marks and "
        "insert the pieces as text, never as HTML."
    )
    score: float | None = Field(
        description="Higher is better, comparable within one search only; null when the "
        "results are newest first (no term of 3 characters or more)."
    )


class SearchRead(BaseModel):
    """A page of results, best first (newest first on ties), and where the next starts."""

    results: list[SearchHitRead]
    next_cursor: str | None = Field(
        description="Send it back as `cursor` (with the same q and filters) for the next "
        "page; null on the last page."
    )
    ranking: Literal["relevance", "newest"] = Field(
        description="relevance: by score; newest: every term is shorter than 3 characters "
        "(or has no 3 letters in a row), so the entries are listed newest first."
    )
    terms: list[str] = Field(description="The terms searched for, as the query was read.")


def search_read(page: SearchPage) -> SearchRead:
    """A page of the search service as JSON."""
    return SearchRead(
        results=[
            SearchHitRead(
                date=hit.day,
                item_id=hit.item_id,
                title=hit.title,
                url=hit.url,
                section=Section(hit.section),
                snippet=hit.snippet,
                score=hit.score,
            )
            for hit in page.hits
        ],
        next_cursor=page.next_cursor,
        ranking=page.ranking.value,
        terms=[term.text for term in page.terms],
    )
