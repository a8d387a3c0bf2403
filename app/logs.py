"""Logging: one line per event, `name key=value ...`, with the request id of the request
that caused it. Keys and article bodies are never logged (events log ids, counts, hosts).

Values come from requests (paths, URLs, hosts, feed titles), so one could hold a newline and
a forged event after it. The formatter quotes every argument the way logfmt does: a value
with a space, a quote, a backslash, an `=` or any character that is not printable is
written as a double-quoted string with `\n`, `\"`, `\\`, `\u2028`... escaped. A line of
the log is therefore always one event, and `key=value` parsers read the fields back. (The
standard library, not structlog: the fifty `event key=%s` calls stay as they are, and every
record, the libraries' included, goes through the same formatter.) Traceback lines are
indented, so that only event lines start at the first column.
"""

from __future__ import annotations

import itertools
import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any, TextIO

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
# A number of this process's own per request (a client may send the same X-Request-ID
# twice): what "once per request" is keyed by. 0 outside a request (a job, a command).
request_serial_var: ContextVar[int] = ContextVar("request_serial", default=0)
_serials = itertools.count(1)


def next_request_serial() -> int:
    """A number no other request of this process had."""
    return next(_serials)


_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"


# Printable, and nothing a logfmt reader would take as the end of a value.
_PLAIN_VALUE = re.compile(r'^[^\s"\\=]+$')
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable() or char == " ":
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def logfmt_value(value: object) -> str:
    """`value` as one logfmt token: as is when plain, else double-quoted and escaped."""
    text = str(value)
    if text and _PLAIN_VALUE.match(text) and text.isprintable():
        return text
    return '"' + "".join(_escape_char(char) for char in text) + '"'


def _one_line(text: str) -> str:
    """What is left of a message after its arguments: no character may break the line."""
    if text.isprintable():
        return text
    return "".join(char if char in ('"', "\\") else _escape_char(char) for char in text)


def _safe_argument(value: object) -> object:
    # Numbers keep their type (`%d`, `%.1f`); anything else is text from somewhere.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return logfmt_value(value)


def safe_message(record: logging.LogRecord) -> str:
    """The record's message with every argument quoted and the whole kept on one line."""
    args = record.args
    if isinstance(args, tuple) and args:
        record_args: object = tuple(_safe_argument(arg) for arg in args)
    elif isinstance(args, dict) and args:
        record_args = {key: _safe_argument(value) for key, value in args.items()}
    else:
        return _one_line(str(record.msg))
    try:
        return _one_line(str(record.msg) % record_args)
    except (TypeError, ValueError):
        # A template that wants another type: say so rather than lose the event.
        return _one_line(f"{record.msg} args={logfmt_value(args)}")


class EventFormatter(logging.Formatter):
    """The log line format, with request values escaped and tracebacks indented."""

    def format(self, record: logging.LogRecord) -> str:
        original = record.msg, record.args
        record.msg, record.args = safe_message(record), None
        try:
            return super().format(record)
        finally:
            record.msg, record.args = original

    def formatException(self, ei: Any) -> str:
        return _indent(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indent(super().formatStack(stack_info))


def _indent(text: str) -> str:
    return "\n".join("    " + _one_line(line) for line in text.splitlines())


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


def log_handler(stream: TextIO | None = None) -> logging.Handler:
    """The handler every event goes through: our format, the request id, values escaped."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(EventFormatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(level: str = "INFO") -> None:
    """Root logging for `serve` and `worker`: our format, the request id, quiet libraries."""
    handler = log_handler()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # instructor logs every failed attempt as an error; our engine retries, degrades and
    # logs the outcome itself. httpx logs each request line, with query strings.
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic's INFO lines (its plugins, the dialect, every revision) would come at every
    # start; app.migrate logs one line, `database at revision X`. DEBUG shows them all.
    debug = root.isEnabledFor(logging.DEBUG)
    logging.getLogger("alembic").setLevel(logging.NOTSET if debug else logging.WARNING)
