"""Domain errors that carry their HTTP status and problem type, and the one RFC 9457 renderer."""

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


class InvalidRequest(SecdigestError):
    status_code = 422
    slug = "invalid-request"
    title = "Invalid request"


class NotFound(SecdigestError):
    status_code = 404
    slug = "not-found"
    title = "Not found"


class PayloadTooLarge(SecdigestError):
    status_code = 413
    slug = "payload-too-large"
    title = "Payload too large"


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


class NotAnArticle(SecdigestError):
    status_code = 422
    slug = "not-an-article"
    title = "Nothing readable in the page"


class UnsupportedMediaType(SecdigestError):
    status_code = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


# Every problem type the service can answer, for the README and the OpenAPI text.
PROBLEM_TYPES: tuple[type[SecdigestError], ...] = (
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    FetchBlocked,
    FetchFailed,
    FetchTooLarge,
    FetchTimeout,
    NotAnArticle,
    SecdigestError,
)

_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-request", "Invalid request"),
    429: ("rate-limited", "Too many requests"),
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
    slug, title = _STATUS_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
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
