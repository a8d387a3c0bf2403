"""Blocklists for firewalls: one value per line, the unflagged indicators of the last N days."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.deps import StateDep
from app.errors import PROBLEM_JSON
from app.http.conditional import answer, not_modified
from app.services.exports.blocklist import DEFAULT_DAYS, MAX_DAYS

router = APIRouter(prefix="/blocklist", tags=["exports"])


@router.get(
    "/{ioc_type}.txt",
    responses={
        200: {"content": {"text/plain": {}}},
        304: {"description": "not modified: the ETag sent in If-None-Match is current"},
        404: {"description": "not-found: no blocklist of that type", "content": {PROBLEM_JSON: {}}},
        422: {"description": "invalid-request", "content": {PROBLEM_JSON: {}}},
    },
    description="`ioc_type`: ipv4, ipv6, domain, url, md5, sha1, sha256 or sha512. One value "
    "per line (a URL without its scheme), the unflagged indicators of the last `days` days "
    "(today included, in SECDIGEST_TIMEZONE), sorted. Send the ETag back in If-None-Match "
    "to get a 304 while the list has not changed.",
)
async def get_blocklist(
    ioc_type: str,
    request: Request,
    state: StateDep,
    days: Annotated[
        int, Query(ge=1, le=MAX_DAYS, description="How many days back, today included.")
    ] = DEFAULT_DAYS,
) -> Response:
    """A blocklist in the form firewalls' external dynamic lists read."""
    lists = state.blocklists
    listing = await lists.listing(ioc_type, days=days, tz=state.settings.tz)
    if_none_match = request.headers.get("if-none-match")
    rendered = None
    if not not_modified(if_none_match, listing.representation.etag):
        rendered = await lists.body(listing)
    representation = rendered.representation if rendered else listing.representation
    status, headers, body = answer(representation, rendered, if_none_match)
    return Response(body, status_code=status, headers=headers)
