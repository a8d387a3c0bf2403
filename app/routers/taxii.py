"""TAXII 2.1, read-only: discovery, one API root, one collection of every exported object.

Every answer is `application/taxii+json;version=2.1`, errors included (TAXII's error
message); a request whose Accept allows no such answer gets 406. Keys are checked before
routing like everywhere (their 401/403/429 stay problem+json: TAXII clients read the
status): a read key as Bearer, X-API-Key or HTTP Basic's password, what taxii2-client and
OpenCTI's connector send.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute

from app.deps import StateDep
from app.errors import Forbidden, NotAcceptable, NotFound, SecdigestError
from app.services.exports import taxii
from app.services.exports.stix import MEDIA_TYPE as STIX_MEDIA_TYPE
from app.services.exports.taxii import COLLECTION_ALIAS, COLLECTION_ID, TAXII_MEDIA_TYPE, TaxiiStore
from app.state import AppState

API_ROOT = "api"
_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {TAXII_MEDIA_TYPE: {}}},
    400: {"description": "a filter or `next` that is not valid (a TAXII error message)"},
    404: {"description": "no such API root, collection or object (a TAXII error message)"},
    406: {"description": "the Accept header does not allow application/taxii+json;version=2.1"},
}


class TaxiiRoute(APIRoute):
    """A route that answers TAXII's media type: 406 first, then errors as TAXII errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def taxii_handler(request: Request) -> Response:
            if not accepts_taxii(request.headers.get("accept")):
                return taxii_error(NotAcceptable(f"this server answers {TAXII_MEDIA_TYPE}"))
            try:
                return await handle(request)
            except SecdigestError as error:
                return taxii_error(error)

        return taxii_handler


router = APIRouter(prefix="/taxii2", tags=["taxii"], route_class=TaxiiRoute, responses=_ANSWER)


def accepts_taxii(accept: str | None) -> bool:
    """Whether an Accept header allows TAXII 2.1's media type (none at all allows any)."""
    if accept is None or not accept.strip():
        return True
    for part in accept.split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality, version = "1", "2.1"
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                quality = value.strip()
            elif name.strip().lower() == "version":
                version = value.strip().strip('"')
        if quality.rstrip("0").rstrip(".") in ("0", ""):
            continue  # q=0: refused
        media = media.lower()
        if media in ("*/*", "application/*") or (
            media == "application/taxii+json" and version == "2.1"
        ):
            return True
    return False


def taxii_error(error: SecdigestError) -> Response:
    """A TAXII 2.1 error message (section 3.6.1)."""
    body = {
        "title": error.title,
        "description": error.detail,
        "error_code": error.slug,
        "http_status": str(error.status_code),
    }
    return _answer(body, status=error.status_code, headers=error.headers)


def _answer(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(raw, status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


async def get_store(state: StateDep) -> TaxiiStore:
    """The process's collection (built on first use, kept with the app state)."""
    return state.taxii


StoreDep = Annotated[TaxiiStore, Depends(get_store)]


async def object_query(
    request: Request,
    added_after: Annotated[str | None, Query(description="only versions added after")] = None,
    limit: Annotated[str | None, Query(description=f"1 to {taxii.MAX_PAGE_SIZE}")] = None,
    next_page: Annotated[
        str | None, Query(alias="next", description="the `next` of the previous page")
    ] = None,
    match_id: Annotated[str | None, Query(alias="match[id]")] = None,
    match_type: Annotated[str | None, Query(alias="match[type]")] = None,
    match_version: Annotated[
        str | None, Query(alias="match[version]", description="last (default), first, all")
    ] = None,
    match_spec_version: Annotated[str | None, Query(alias="match[spec_version]")] = None,
) -> Mapping[str, str]:
    """The TAXII filters, read by the service (declared here for the OpenAPI: as text, so
    that a bad value is TAXII's 400 rather than a validation problem)."""
    return request.query_params


QueryDep = Annotated[Mapping[str, str], Depends(object_query)]


def _collection(state: AppState) -> dict[str, Any]:
    return {
        "id": COLLECTION_ID,
        "title": "Daily Security Info",
        "description": f"Every STIX 2.1 object {state.settings.producer_name} exports: a "
        "report per entry, its indicators, vulnerabilities and ATT&CK techniques.",
        "alias": COLLECTION_ALIAS,
        "can_read": True,
        "can_write": False,
        "media_types": [STIX_MEDIA_TYPE],
    }


def _check(api_root: str, collection_id: str | None = None) -> None:
    if api_root != API_ROOT:
        raise NotFound(f"no API root {api_root!r}")
    if collection_id is not None and collection_id not in (COLLECTION_ID, COLLECTION_ALIAS):
        raise NotFound(f"no collection {collection_id!r}")


@router.get("/")
async def discovery(request: Request, state: StateDep) -> Response:
    """TAXII discovery: the server's one API root."""
    root = f"{str(request.base_url).rstrip('/')}/taxii2/{API_ROOT}/"
    return _answer(
        {
            "title": f"{state.settings.producer_name} TAXII server",
            "description": "The Daily Security Info digest as STIX 2.1, read-only.",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get("/{api_root}/")
async def api_root_information(api_root: str, state: StateDep) -> Response:
    """The API root: TAXII 2.1."""
    _check(api_root)
    return _answer(
        {
            "title": "Daily Security Info",
            "description": "Reports, indicators, vulnerabilities and ATT&CK techniques.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": state.settings.max_body_bytes,
        }
    )


@router.get("/{api_root}/status/{status_id}/")
async def status(api_root: str, status_id: str) -> Response:
    """Status of an add request: none exist (the collection is read-only)."""
    _check(api_root)
    raise NotFound(f"no status {status_id!r}: this server accepts no objects")


@router.get("/{api_root}/collections/")
async def collections(api_root: str, state: StateDep) -> Response:
    """The collections: one, holding every exported object."""
    _check(api_root)
    return _answer({"collections": [_collection(state)]})


@router.get("/{api_root}/collections/{collection_id}/")
async def collection(api_root: str, collection_id: str, state: StateDep) -> Response:
    """One collection's description (its id or its alias, `daily`)."""
    _check(api_root, collection_id)
    return _answer(_collection(state))


@router.get("/{api_root}/collections/{collection_id}/objects/")
async def get_objects(
    api_root: str, collection_id: str, store: StoreDep, query: QueryDep
) -> Response:
    """Object versions, oldest added first: `added_after`, `limit`, `next`, `match[...]`."""
    _check(api_root, collection_id)
    filters = taxii.parse_filters(query, matches=("id", "type", "version", "spec_version"))
    page = taxii.select_page(await store.snapshot(), filters)
    return _answer(taxii.envelope(page), headers=page.headers())


# The refusals are kept out of the OpenAPI: they change nothing, and the description lists
# what can be done (tests/api/test_read_path.py holds every listed write to a report rule).
@router.post(
    "/{api_root}/collections/{collection_id}/objects/", status_code=403, include_in_schema=False
)
async def add_objects(api_root: str, collection_id: str) -> Response:
    """Adding objects: refused, the collection is read-only (`can_write: false`)."""
    _check(api_root, collection_id)
    raise Forbidden("this collection is read-only (can_write: false)")


@router.get("/{api_root}/collections/{collection_id}/manifest/")
async def get_manifest(
    api_root: str, collection_id: str, store: StoreDep, query: QueryDep
) -> Response:
    """Manifest records (id, date_added, version, media_type) with the objects' filters."""
    _check(api_root, collection_id)
    filters = taxii.parse_filters(query, matches=("id", "type", "version", "spec_version"))
    page = taxii.select_page(await store.snapshot(), filters)
    return _answer(taxii.manifest(page), headers=page.headers())


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/")
async def get_object(
    api_root: str, collection_id: str, object_id: str, store: StoreDep, query: QueryDep
) -> Response:
    """One object's versions (the last by default; `match[version]=all`)."""
    _check(api_root, collection_id)
    filters = taxii.parse_filters(query, matches=("version", "spec_version"))
    snapshot = await store.snapshot()
    if object_id not in snapshot.by_id:
        raise NotFound(f"no object {object_id!r} in this collection")
    page = taxii.select_page(snapshot, filters, object_id=object_id)
    return _answer(taxii.envelope(page), headers=page.headers())


@router.delete(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/",
    status_code=403,
    include_in_schema=False,
)
async def delete_object(api_root: str, collection_id: str, object_id: str) -> Response:
    """Deleting an object: refused, the collection is read-only."""
    _check(api_root, collection_id)
    raise Forbidden("this collection is read-only (can_write: false)")


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/versions/")
async def get_object_versions(
    api_root: str, collection_id: str, object_id: str, store: StoreDep, query: QueryDep
) -> Response:
    """The versions of one object (`modified` timestamps), oldest added first."""
    _check(api_root, collection_id)
    filters = taxii.parse_filters(query, matches=("spec_version",))
    snapshot = await store.snapshot()
    if object_id not in snapshot.by_id:
        raise NotFound(f"no object {object_id!r} in this collection")
    page = taxii.select_page(snapshot, filters, object_id=object_id)
    return _answer(taxii.versions_resource(page), headers=page.headers())
