"""ASGI middleware: request ids, body caps and access logs; Idempotency-Key on POSTs."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from app.errors import (
    Conflict,
    InvalidRequest,
    PayloadTooLarge,
    SecdigestError,
    problem_of,
    unexpected_error_response,
)
from app.http import idempotency
from app.http.conditional import accepts_gzip
from app.logs import new_request_id, next_request_serial, request_id_var, request_serial_var

log = logging.getLogger("secdigest.idempotency")
access_log = logging.getLogger("secdigest.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Headers of an answer worth replaying (Location of a 202, the media type...).
_KEPT_HEADERS = ("content-type", "location", "preference-applied", "retry-after")
MAX_BODY_BYTES = 12 * 1024 * 1024


class BodyTooLarge(StarletteHTTPException):
    """A request body that passed the cap while it was being received."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class IdempotencyMiddleware:
    """Same key and same request: the first answer again. Same key, another request: 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def problem(error: type[SecdigestError], detail: str, **kw: Any) -> None:
            response = problem_of(error, detail, instance=path, **kw)
            await response(scope, receive, send)

        if not key or len(key) > idempotency.MAX_KEY_LENGTH or not key.isprintable():
            await problem(InvalidRequest, "invalid Idempotency-Key")
            return
        try:
            body = await _read_body(receive, MAX_BODY_BYTES)
        except PayloadTooLarge as exc:
            await problem(PayloadTooLarge, exc.detail)
            return
        except BodyTooLarge as exc:
            await problem(PayloadTooLarge, str(exc.detail))
            return
        sessionmaker = scope["app"].state.secdigest.sessionmaker
        caller = _caller(scope)
        fingerprint = idempotency.request_hash(
            "POST", path, bytes(scope.get("query_string", b"")).decode("latin-1"), body
        )
        decision = await idempotency.claim(
            sessionmaker,
            caller=caller,
            key=key,
            method="POST",
            path=path,
            fingerprint=fingerprint,
        )
        if isinstance(decision, idempotency.StoredAnswer):
            await _send_answer(send, decision, replayed=True)
            return
        if isinstance(decision, idempotency.Mismatch):
            await problem(InvalidRequest, "this Idempotency-Key was used with another request")
            return
        if isinstance(decision, idempotency.InProgress):
            await problem(
                Conflict,
                "a request with this Idempotency-Key is still being answered",
                headers={"Retry-After": "1"},
            )
            return
        answer = await self._answer(scope, body, caller, key)
        if answer.status_code >= 500:
            await idempotency.forget(sessionmaker, caller=caller, key=key)
        else:
            await idempotency.remember(sessionmaker, caller=caller, key=key, answer=answer)
        await _send_answer(send, answer, replayed=False)

    async def _answer(
        self, scope: Scope, body: bytes, caller: str, key: str
    ) -> idempotency.StoredAnswer:
        """Run the request with its body replayed, and capture the whole answer."""
        sessionmaker = scope["app"].state.secdigest.sessionmaker
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", []):
                    decoded = bytes(name).decode("latin-1").lower()
                    if decoded in _KEPT_HEADERS:
                        headers[decoded] = bytes(value).decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await idempotency.forget(sessionmaker, caller=caller, key=key)
            raise
        return idempotency.StoredAnswer(status, headers, b"".join(chunks))


def _caller(scope: Scope) -> str:
    """Whose Idempotency-Key this is: the caller the security middleware (outside this one)
    authenticated, else the one anonymous caller of open mode."""
    state = scope.get("state") or {}
    caller = state.get("caller")
    return caller if isinstance(caller, str) and caller else idempotency.ANONYMOUS


async def _send_answer(send: Send, answer: idempotency.StoredAnswer, *, replayed: bool) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": answer.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


class RequestContextMiddleware:
    """Outermost: a request id for the logs and the answer, a cap on the body, one log line.

    The body cap answers 413 from the Content-Length before anything is read, and stops a
    body sent without one (chunked) as soon as it passes the cap.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id(_header(scope, b"x-request-id"))
        token = request_id_var.set(request_id)
        serial = request_serial_var.set(next_request_serial())
        started = time.perf_counter()
        status = 0
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                response = problem_of(
                    PayloadTooLarge,
                    f"the body is {declared} bytes; the limit is {self.max_body_bytes}",
                    instance=scope.get("path", ""),
                )
                await response(scope, receive, send_with_id)
                return
            await self.app(scope, self._capped(receive), send_with_id)
        except Exception as exc:
            # Answered here, inside the request id: a problem+json 500 that carries it, on a
            # connection that stays usable (an exception left to the server resets it).
            if response_started:
                raise
            response = unexpected_error_response(scope.get("path", ""), exc, request_id)
            await response(scope, receive, send_with_id)
        finally:
            access_log.info(
                "http.request method=%s path=%s status=%s ms=%.0f",
                scope.get("method"),
                scope.get("path"),
                status,
                (time.perf_counter() - started) * 1000,
            )
            request_id_var.reset(token)
            request_serial_var.reset(serial)

    def _capped(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_bytes

        async def capped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's body read. An HTTPException is what FastAPI
                    # lets through from there (anything else becomes a generic 400); the
                    # problem handler answers it as payload-too-large.
                    raise BodyTooLarge(limit)
            return message

        return capped


class HeadMiddleware:
    """HEAD on every GET route: the GET is answered, its body left out (RFC 9110, 9.3.2).

    The headers are the GET's (length, ETag, encoding), so a client can check a
    representation without downloading it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # A copy: the server keeps seeing HEAD (uvicorn then sends no body either).
        await self.app({**scope, "method": "GET"}, receive, without_body)


class GzipIfAccepted(GZipMiddleware):
    """Starlette's gzip, entered only by requests that accept gzip.

    Its identity path still buffers and inspects every answer; most API clients (SOAR
    scripts, curl) do not ask for compression, and pay nothing here. Answers that are
    already encoded (the cached days, compressed once per state) pass as they are.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and accepts_gzip(_header(scope, b"accept-encoding")):
            await super().__call__(scope, receive, send)
            return
        await self.app(scope, receive, send)
