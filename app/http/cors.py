"""CORS for a frontend on its own origin (SECDIGEST_CORS_ORIGINS), off when none is named.

Starlette's CORSMiddleware, outside the key check: a preflight (OPTIONS with Origin and
Access-Control-Request-Method) carries no key, so an allowed origin's preflight is answered
here, before the security middleware would refuse it. A preflight from any other origin goes
on to the security middleware and is refused as it is without CORS (401, or 403 in open
mode): the key check never opens for an origin nobody named.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS = (
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "If-None-Match",
    "Idempotency-Key",
)
# What a page may read of an answer: the validators of the cached reads, where a created
# item or a job is (Location), how long to wait after a 429 or a 503 (Retry-After, the
# only rate-limit header the service sends), whether Prefer: respond-async was applied,
# and the request id to quote in a report.
CORS_EXPOSED = (
    "ETag",
    "Last-Modified",
    "Location",
    "Retry-After",
    "Preference-Applied",
    "X-Request-ID",
)


class OriginCORSMiddleware(CORSMiddleware):
    """CORSMiddleware whose preflights from origins not named go on to the key check."""

    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            # Keys travel in headers, never cookies: no credentialed (cookie) requests.
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            preflight = "access-control-request-method" in headers
            if preflight and (origin is None or not self.is_allowed_origin(origin)):
                await self.app(scope, receive, send)  # refused there, as without CORS
                return
        await super().__call__(scope, receive, send)
