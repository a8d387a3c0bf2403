"""Logging: one line per event, `name key=value ...`, with the request id of the request
that caused it. Keys and article bodies are never logged (events log ids, counts, hosts)."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"


def new_request_id(offered: str | None) -> str:
    """The client's X-Request-ID when it is a short plain token, else a fresh one."""
    if offered and _SAFE_ID.match(offered):
        return offered
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    """Root logging for `serve` and `worker`: our format, the request id, quiet libraries."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # instructor logs every failed attempt as an error; our engine retries, degrades and
    # logs the outcome itself. httpx logs each request line, with query strings.
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    logging.getLogger("httpx").setLevel(logging.WARNING)
