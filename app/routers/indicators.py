"""Indicators across days: where one was seen before, and many at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.deps import ReadSessionDep
from app.errors import PROBLEM_JSON
from app.schemas.indicators import (
    IndicatorRead,
    IndicatorValue,
    LookupRequest,
    LookupResponse,
    LookupResult,
)
from app.services import memory

router = APIRouter(prefix="/indicators", tags=["indicators"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}


@router.get(
    "",
    responses={
        404: {"description": "not-found: never seen in a report", **_PROBLEM},
        422: {"description": "invalid-request: not an indicator, or a bad cursor", **_PROBLEM},
    },
)
async def get_indicator(
    session: ReadSessionDep,
    value: Annotated[
        IndicatorValue,
        Query(description="In any form: `evil[.]com`, `EVIL.COM`, `evil.com.`, `hxxps://...`"),
    ],
    limit: Annotated[int, Query(ge=1, le=memory.MAX_PAGE)] = memory.DEFAULT_PAGE,
    cursor: Annotated[
        str | None, Query(max_length=200, description="The `next_cursor` of the previous page.")
    ] = None,
) -> IndicatorRead:
    """An indicator's first and last report days, count, and sightings newest first."""
    summary = await memory.indicator_summary(session, value, cursor=cursor, limit=limit)
    return IndicatorRead.model_validate(summary)


# A POST that only reads (a body of up to 1,000 values does not fit a URL): a read session.
@router.post(
    "/lookup",
    responses={422: {"description": "invalid-request: a bad body", **_PROBLEM}},
)
async def lookup_indicators(body: LookupRequest, session: ReadSessionDep) -> LookupResponse:
    """What is known of up to 1,000 values at once, in the order sent (a SOAR's alert)."""
    found = await memory.lookup(session, body.values)
    return LookupResponse(results=[LookupResult.model_validate(seen) for seen in found])
