"""Every problem the service answers, in one family, and the one RFC 9457 renderer.

Below the routers code raises these; one handler turns each into `application/problem+json`
with a stable `type` (`/problems/<slug>`). The HTTP edge (keys, limits, bodies) answers
with the same classes through `problem_of`. A status that several causes share keeps one
class (`Conflict` for a duplicate feed, item or running Idempotency-Key), so that a slug
means one thing:

    SecdigestError              500  internal-error          a bug; logged under the request id
    ├── BadRequest              400  bad-request             the HTTP request could not be parsed
    ├── Unauthorized            401  unauthorized            no key, or a wrong or revoked one
    ├── Forbidden               403  forbidden               a read key writing; foreign Host/Origin
    ├── NotFound                404  not-found               no such path, day, item, feed or job
    ├── MethodNotAllowed        405  method-not-allowed      wrong method for the path
    ├── NotAcceptable           406  not-acceptable          Accept allows no answer (TAXII)
    ├── Conflict                409  conflict                already there, or still running
    ├── PayloadTooLarge         413  payload-too-large       a body over the limit
    ├── UnsupportedMediaType    415  unsupported-media-type  a body of the wrong type
    ├── InvalidRequest          422  invalid-request         a field, a parameter or a Markdown line
    │   └── MarkdownError       422  invalid-request         (names the line of an import)
    ├── NotAnArticle            422  not-an-article          nothing readable in the page
    ├── NotAFeed                422  not-a-feed              neither RSS nor Atom
    ├── RateLimited             429  rate-limited            past a rate limit
    ├── FetchBlocked            400  fetch-blocked           the URL points where we may not go
    ├── FetchFailed             502  fetch-failed            the site answered badly or not at all
    ├── FetchTooLarge           502  fetch-too-large         the page is over the fetch limit
    ├── FetchTimeout            504  fetch-timeout           the site did not answer in time
    └── NotReady                503  not-ready               /readyz: the database is not there

`PROBLEM_TYPES` lists them; a test checks it against the table of docs/api.md.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

log = logging.getLogger("secdigest.errors")


class SecdigestError(Exception):
    """Base of every error the service answers with a problem+json body."""

    status_code: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


class BadRequest(SecdigestError):
    status_code = 400
    slug = "bad-request"
    title = "Bad request"


class Unauthorized(SecdigestError):
    status_code = 401
    slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(SecdigestError):
    status_code = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(SecdigestError):
    status_code = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(SecdigestError):
    status_code = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class NotAcceptable(SecdigestError):
    """The client's Accept allows none of the media types the resource has (TAXII 2.1)."""

    status_code = 406
    slug = "not-acceptable"
    title = "Not acceptable"


class Conflict(SecdigestError):
    """Already there (a feed, a report item: its id is in the problem), or still running."""

    status_code = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(SecdigestError):
    status_code = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(SecdigestError):
    status_code = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class InvalidRequest(SecdigestError):
    status_code = 422
    slug = "invalid-request"
    title = "Invalid request"


class MarkdownError(InvalidRequest):
    """The Markdown does not follow the digest format; the detail names the line."""


class NotAnArticle(SecdigestError):
    status_code = 422
    slug = "not-an-article"
    title = "Nothing readable in the page"


class NotAFeed(SecdigestError):
    """The URL answered, but with neither RSS nor Atom that any entry could be read from."""

    status_code = 422
    slug = "not-a-feed"
    title = "Not an RSS or Atom feed"


class RateLimited(SecdigestError):
    status_code = 429
    slug = "rate-limited"
    title = "Too many requests"


class FetchBlocked(SecdigestError):
    status_code = 400
    slug = "fetch-blocked"
    title = "The URL points where the service may not go"


class FetchFailed(SecdigestError):
    status_code = 502
    slug = "fetch-failed"
    title = "The site answered badly or not at all"


class FetchTooLarge(SecdigestError):
    status_code = 502
    slug = "fetch-too-large"
    title = "The page is larger than the service accepts"


class FetchTimeout(SecdigestError):
    status_code = 504
    slug = "fetch-timeout"
    title = "The site did not answer in time"


class NotReady(SecdigestError):
    status_code = 503
    slug = "not-ready"
    title = "Not ready"


# Every problem type the service can answer, one class per slug (docs/api.md lists them).
PROBLEM_TYPES: tuple[type[SecdigestError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidRequest,
    NotAnArticle,
    NotAFeed,
    RateLimited,
    FetchBlocked,
    FetchFailed,
    FetchTooLarge,
    FetchTimeout,
    NotReady,
    SecdigestError,
)

# The framework's own errors (404, 405, 413...) answered as the first class of their status
# in PROBLEM_TYPES: the generic one (BadRequest before FetchBlocked, InvalidRequest before
# NotAnArticle). Server errors are ours alone.
_BY_STATUS: dict[int, type[SecdigestError]] = {
    error.status_code: error for error in reversed(PROBLEM_TYPES) if error.status_code < 500
}


def problem_dict(error: SecdigestError) -> dict[str, Any]:
    """The RFC 9457 body of a domain error, for places that embed it (batches, jobs)."""
    return {
        "type": f"/problems/{error.slug}",
        "title": error.title,
        "status": error.status_code,
        "detail": error.detail,
        **error.extra,
    }


def problem_slug(problem: dict[str, Any]) -> str:
    """The short name of a stored problem (`fetch-blocked` for `/problems/fetch-blocked`)."""
    return str(problem.get("type", "")).rsplit("/", 1)[-1]


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 body: a stable relative `type`, a title, a detail, optional extensions."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_of(
    error: type[SecdigestError],
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The answer of an error class, for code that answers without raising (middleware)."""
    return problem_response(
        error.status_code,
        error.slug,
        error.title,
        detail,
        instance=instance,
        headers=headers,
        **extra,
    )


async def _secdigest_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SecdigestError)
    return problem_response(
        exc.status_code,
        exc.slug,
        exc.title,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers or None,
        **exc.extra,
    )


def _validation_detail(errors: list[Any]) -> list[dict[str, Any]]:
    # The loc/msg/type of each error, never the submitted value (it may be a whole page).
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in errors
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_detail(list(exc.errors()))
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "request"
    return problem_response(
        422,
        InvalidRequest.slug,
        InvalidRequest.title,
        f"{where}: {first['msg']}",
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error = _BY_STATUS.get(exc.status_code)
    slug, title = (error.slug, error.title) if error else ("http-error", "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(
        exc.status_code,
        slug,
        title,
        detail,
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


def unexpected_error_response(path: str, exc: BaseException, request_id: str) -> JSONResponse:
    """The 500 of an error nobody expected: logged with its trace, answered without it."""
    # Logged with its trace for us; the client gets no stack trace and no SQL, only the id
    # to quote when reporting it.
    log.exception("request.failed path=%s", path, exc_info=exc)
    return problem_response(
        500,
        SecdigestError.slug,
        SecdigestError.title,
        "The service failed to handle this request; it has been logged.",
        instance=path,
        request_id=request_id,
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Only reached if RequestContextMiddleware itself failed: it answers every other 500.
    return unexpected_error_response(request.url.path, exc, "-")


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, ours or the framework's, an application/problem+json answer."""
    app.add_exception_handler(SecdigestError, _secdigest_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
