"""The MISP feed: `manifest.json`, `<event uuid>.json`, `hashes.csv`, as MISP subscribes to it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.deps import StateDep
from app.errors import PROBLEM_JSON
from app.http.conditional import answer
from app.services.exports.render import ExportOptions
from app.services.reports.reads import Rendered
from app.state import AppState

# MISP appends the file names to the feed's URL: `https://host/misp` (no trailing slash).
router = APIRouter(prefix="/misp", tags=["exports"])

_CONDITIONAL: dict[int | str, dict[str, Any]] = {
    304: {"description": "not modified: the ETag sent in If-None-Match is current"},
}


def _options(state: AppState) -> ExportOptions:
    # The feed takes no parameters (MISP adds nothing to its URL): unflagged indicators only.
    return ExportOptions(producer=state.settings.producer_name, tlp=state.settings.tlp)


def _answer(request: Request, rendered: Rendered) -> Response:
    status, headers, body = answer(
        rendered.representation, rendered, request.headers.get("if-none-match")
    )
    return Response(body, status_code=status, headers=headers)


@router.get(
    "/manifest.json", responses={**_CONDITIONAL, 200: {"content": {"application/json": {}}}}
)
async def misp_manifest(request: Request, state: StateDep) -> Response:
    """The feed's manifest: each event's uuid with its info, date, timestamp, Orgc and tags."""
    return _answer(request, await state.misp_feed.manifest(_options(state)))


@router.get("/hashes.csv", responses={**_CONDITIONAL, 200: {"content": {"text/csv": {}}}})
async def misp_hashes(request: Request, state: StateDep) -> Response:
    """`md5(value),event uuid` per attribute: what MISP's feed cache correlates on."""
    return _answer(request, await state.misp_feed.hashes(_options(state)))


@router.get(
    "/{event_uuid}.json",
    responses={
        **_CONDITIONAL,
        200: {"content": {"application/json": {}}},
        404: {"description": "not-found: no such event", "content": {PROBLEM_JSON: {}}},
    },
)
async def misp_event(event_uuid: str, request: Request, state: StateDep) -> Response:
    """One event of the feed, `{"Event": {...}}`, as MISP's feed generator writes it."""
    return _answer(request, await state.misp_feed.event(event_uuid, _options(state)))
