"""Access control for every route: API keys, scopes, rate limits, JSON bodies.

One ASGI middleware decides before any route (or the idempotency replay) runs, so a route
added later is protected without doing anything; only OPEN_PATHS are served to anyone.
Before a key exists the rules of `open_mode` apply instead (this machine only).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from app.clock import ClockMemo
from app.db import session_scope
from app.errors import (
    PROBLEM_JSON,
    Forbidden,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
    problem_of,
)
from app.http import open_mode
from app.http.credentials import presented_key
from app.http.headers import READ_METHODS, has_body, header_value, header_values, is_json_media_type
from app.http.open_mode import HOW_TO_CREATE, is_loopback, is_loopback_name
from app.http.openapi import document_problems
from app.models import ApiKey
from app.services import apikeys
from app.state import AppState

log = logging.getLogger("secdigest.security")

# Orchestrators probe /healthz and /readyz without credentials. /openapi.json and the docs
# describe the public contract (nothing about the deployment) and Swagger UI fetches the
# schema without a key; a key is entered in its Authorize dialog for the calls themselves.
# /metrics is NOT open: it tells traffic volume and model spend, and Prometheus can send a
# read key (`authorization: {type: Bearer, credentials_file: ...}`).
OPENAPI_PATH = "/openapi.json"
OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", OPENAPI_PATH, "/docs", "/docs/oauth2-redirect", "/redoc"}
)
# Open like the docs: their own scripts (no CDN), the pages of the problem types (GET).
OPEN_PREFIXES = ("/docs/assets/", "/problems/")
# What an anonymous caller reads as info.version of the OpenAPI description (a required
# field): the release running tells which known flaws apply; callers with a key see it.
PUBLIC_VERSION = "unpublished"
# POSTs that only read: a body carries what a URL cannot (a text, 1,000 values), nothing is
# written, so a read key may call them (a SOAR playbook checking an alert's indicators).
READ_ONLY_POSTS = frozenset({"/iocs", "/indicators/lookup"})
# Reads that need a write key: a webhook's URL is often a secret itself (a Slack or Teams
# incoming webhook), and its deliveries say where the digest goes.
WRITE_KEY_PREFIXES = ("/webhooks",)
# Seconds between two last_used_at writes for one key in one process.
TOUCH_EVERY = apikeys.LAST_USED_RESOLUTION.total_seconds()

# Something to send instead of calling the app: a problem answer.
Responder = Callable[[Scope, Receive, Send], Awaitable[None]]


def route_path(scope: Scope) -> str:
    """The path the router matches (root_path removed), so both judge the same string."""
    # The rule of starlette's (private) get_route_path, kept here on purpose: if we judged
    # a different string than the router routes, a protected route could pass as open.
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and (path == root or path[len(root)] == "/"):
        return path[len(root) :]
    return path


class SecurityMiddleware:
    """Authenticate, authorize by scope and rate-limit every request outside OPEN_PATHS."""

    def __init__(self, app: ASGIApp, *, rate_limit: str, auth_fail_limit: str) -> None:
        self.app = app
        self.item: RateLimitItem = parse(rate_limit)
        # A bucket of its own: failures are counted per address, and only failing requests
        # ever look at it, so junk from a shared address cannot lock out a valid key.
        self.fail_item: RateLimitItem = parse(auth_fail_limit)
        # In memory, per process: with N worker processes a client gets N times the limit.
        # Created on the first request so that its locks and expiry task belong to the
        # server's event loop.
        self._limiter: SlidingWindowCounterRateLimiter | None = None
        self._touched: dict[int, float] = {}
        # Key rows and "a key exists", kept while the change clock reads the same value.
        self._memo = ClockMemo()

    @property
    def limiter(self) -> SlidingWindowCounterRateLimiter:
        """A sliding-window counter: no double burst across a window edge, like a moving
        window, but two counters per caller instead of one timestamp per request (a
        moving window of a high limit kept hundreds of thousands, scanned at each hit)."""
        if self._limiter is None:
            self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # none exist; never let one in unchecked
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if path == OPENAPI_PATH and not await self._is_trusted(scope):
            await _public_openapi(scope)(scope, receive, send)
            return
        if path in OPEN_PATHS or (path.startswith(OPEN_PREFIXES) and scope["method"] == "GET"):
            await self.app(scope, receive, send)
            return
        refusal = await self._check(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _is_trusted(self, scope: Scope) -> bool:
        """Whether the caller would pass the key check (without counting or logging it)."""
        state: AppState = scope["app"].state.secdigest
        presented = presented_key(scope)
        if presented == "":
            return False
        try:
            if presented is not None:
                key = await self._find_key(state, presented)
                return key is not None and key.active
            if await self._keys_exist(state):
                return False
        except SQLAlchemyError:
            return False  # unknown: the public description
        client = scope["client"][0] if scope.get("client") else None
        hosts = header_values(scope, b"host")
        return is_loopback(client) and all(is_loopback_name(host) for host in hosts)

    async def _check(self, scope: Scope) -> Responder | None:
        """None when the request may go on, else the problem answer to send."""
        state: AppState = scope["app"].state.secdigest
        path = scope["path"]
        client = scope["client"][0] if scope.get("client") else None
        presented = presented_key(scope)
        if presented is None:
            return await self._anonymous(state, scope, client, path)
        key = await self._find_key(state, presented)
        if key is None or not key.active:
            # Never the presented string: it may be a secret of something else. A revoked
            # key's row names it.
            log.info(
                "auth.denied reason=%s key=%s client=%s path=%s",
                "revoked" if key is not None else "invalid",
                key.name if key is not None else "-",
                client,
                path,
            )
            return await self._failed(client, path, "the API key is invalid or revoked")
        request_state = scope.setdefault("state", {})
        request_state["api_key"] = key.name  # for the access log
        # Who is calling, for what is scoped per caller (Idempotency-Key): the key's
        # unique prefix; a request without a key (loopback-only mode) has none.
        request_state["caller"] = f"key:{key.prefix}"
        limited = await self._limit(f"key:{key.prefix}", path)
        if limited is not None:
            return limited
        if key.scope != "write" and not _reads_only(scope["method"], path):
            log.info("auth.forbidden key=%s method=%s path=%s", key.name, scope["method"], path)
            return problem_of(
                Forbidden,
                f"the key {key.name!r} has the read scope; {scope['method']} {path} needs write",
                instance=path,
            )
        await self._touch(state, key.id)
        return _unsupported_body(scope, path)

    async def _anonymous(
        self, state: AppState, scope: Scope, client: str | None, path: str
    ) -> Responder | None:
        """A request without a key: refused once a key exists, else loopback only."""
        if await self._keys_exist(state):
            log.info("auth.denied reason=missing client=%s path=%s", client, path)
            return await self._failed(
                client, path, "send an API key: `Authorization: Bearer <key>` or `X-API-Key`"
            )
        # Open mode is for this machine only, whatever address the server was bound to:
        # a server bound publicly whose keys were all revoked does not open up.
        if not is_loopback(client):
            log.info("auth.denied reason=open-mode-remote client=%s path=%s", client, path)
            return await self._failed(
                client, path, f"no API key exists yet: only this machine may call; {HOW_TO_CREATE}"
            )
        browser_refusal = open_mode.browser_check(scope, path)
        if browser_refusal is not None:
            return browser_refusal
        limited = await self._limit(f"addr:{client}", path)
        return limited if limited is not None else _unsupported_body(scope, path)

    async def _keys_exist(self, state: AppState) -> bool:
        """Whether a key exists, read again only when the change clock moved."""
        clock = await _clock_now(state)
        if clock is not None:
            known = self._memo.get(clock, _KEYS_EXIST)
            if isinstance(known, bool):
                return known
        async with state.read_sessionmaker() as session:
            exists = await apikeys.has_active_key(session)
        if clock is not None:
            self._memo.put(clock, _KEYS_EXIST, exists)
        return exists

    async def _find_key(self, state: AppState, presented: str) -> KeyInfo | None:
        """The presented key's row, read again only when the change clock moved.

        Creating, revoking or changing a key moves the clock (a trigger), in any process:
        a revoked key is refused at its next request everywhere.
        """
        clock = await _clock_now(state)
        memo_key = ("key", apikeys.hash_key(presented))
        if clock is not None:
            known = self._memo.get(clock, memo_key)
            if isinstance(known, KeyInfo):
                return known
            if known is _NO_KEY:
                return None
        async with state.read_sessionmaker() as session:
            row = await apikeys.find_key(session, presented)
            found = KeyInfo.of(row) if row is not None else None
        if clock is not None:
            self._memo.put(clock, memo_key, found if found is not None else _NO_KEY)
        return found

    async def _failed(self, client: str | None, path: str, detail: str) -> Responder:
        """A 401 counted against the address; 429 once the address is past its failures."""
        if not await self.limiter.hit(self.fail_item, "fail", str(client)):
            log.info("rate.limited who=fail:%s path=%s", client, path)
            return _RetryLater(self, self.fail_item, ("fail", str(client)), path)
        return problem_of(
            Unauthorized,
            detail,
            instance=path,
            headers={"WWW-Authenticate": 'Bearer realm="secdigest", Basic realm="secdigest"'},
        )

    async def _limit(self, identity: str, path: str) -> Responder | None:
        if await self.limiter.hit(self.item, identity):
            return None
        log.info("rate.limited who=%s path=%s", identity, path)
        return _RetryLater(self, self.item, (identity,), path)

    async def _touch(self, state: AppState, key_id: int) -> None:
        now = time.monotonic()
        if now - self._touched.get(key_id, -math.inf) < TOUCH_EVERY:
            return
        self._touched[key_id] = now
        try:
            async with session_scope(state.sessionmaker) as session:
                await apikeys.mark_used(session, key_id)
        except SQLAlchemyError as exc:
            # Bookkeeping: a busy database must not turn an authorized request into a 500.
            log.warning("auth.last_used_failed key_id=%s error=%s", key_id, type(exc).__name__)


def _public_openapi(scope: Scope) -> Responder:
    """The API description without the release: which version runs is for callers only."""
    schema = copy.deepcopy(scope["app"].openapi())
    schema["info"]["version"] = PUBLIC_VERSION
    return JSONResponse(schema)


def _unsupported_body(scope: Scope, path: str) -> Responder | None:
    """A POST or PATCH body must be JSON: a form or text/plain body is what a page can forge.

    (PUT /reports/{date} takes Markdown; no browser sends a cross-site PUT unasked.)
    """
    if scope["method"] not in ("POST", "PATCH") or not has_body(scope):
        return None
    content_type = header_value(scope, b"content-type") or ""
    if is_json_media_type(content_type):
        return None
    return problem_of(
        UnsupportedMediaType,
        "send the body as JSON: Content-Type: application/json",
        instance=path,
    )


_KEYS_EXIST = "keys-exist"
_NO_KEY = object()  # a presented string that names no key (kept, like a found one)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What the check needs of a key's row (kept in memory; never the key itself)."""

    id: int
    name: str
    prefix: str
    scope: str
    active: bool

    @classmethod
    def of(cls, key: ApiKey) -> KeyInfo:
        """The fields of a row."""
        return cls(key.id, key.name, key.prefix, key.scope, key.active)


async def _clock_now(state: AppState) -> int | None:
    try:
        return await state.clock.now()
    except Exception:  # the clock cannot say: read the database every time
        log.warning("auth.clock_unavailable")
        return None


class _RetryLater:
    """A 429 whose Retry-After is computed when it is sent (the window's next free slot)."""

    def __init__(
        self,
        middleware: SecurityMiddleware,
        item: RateLimitItem,
        identity: tuple[str, ...],
        path: str,
    ) -> None:
        self.middleware, self.item, self.identity, self.path = middleware, item, identity, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        item = self.item
        stats = await self.middleware.limiter.get_window_stats(item, *self.identity)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        response = problem_of(
            RateLimited,
            f"more than {item.amount} requests per {item.get_expiry()} s; retry in {wait} s",
            instance=self.path,
            headers={"Retry-After": str(wait)},
        )
        await response(scope, receive, send)


_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "an API key as a Bearer token"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def install_security(app: FastAPI, *, rate_limit: str, auth_fail_limit: str) -> None:
    """Add the middleware (outermost so far) and document the keys in the OpenAPI."""
    for variable, value in (
        ("SECDIGEST_RATE_LIMIT", rate_limit),
        ("SECDIGEST_AUTH_FAIL_LIMIT", auth_fail_limit),
    ):
        try:
            parse(value)  # here, so that a bad value stops create_app, not a request
        except ValueError as exc:
            raise ValueError(f"{variable}={value!r}: expected e.g. 120/minute") from exc
    app.add_middleware(SecurityMiddleware, rate_limit=rate_limit, auth_fail_limit=auth_fail_limit)
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_openapi()
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in schema.get("paths", {}).items():
            if path in OPEN_PATHS:
                continue
            for method, operation in operations.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                operation["security"] = [{"bearer": []}, {"apiKey": []}]
                responses = operation["responses"]
                responses.setdefault("401", {"description": "unauthorized", **_PROBLEM})
                if not _reads_only(method.upper(), path):
                    responses.setdefault("403", {"description": "forbidden", **_PROBLEM})
                responses.setdefault("429", {"description": "rate-limited", **_PROBLEM})
        document_problems(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _reads_only(method: str, path: str) -> bool:
    """Whether a read key may make this call."""
    if path.startswith(WRITE_KEY_PREFIXES):
        return False
    return method in READ_METHODS or (method == "POST" and path in READ_ONLY_POSTS)
