"""Log lines: one event per line, whatever a request puts in the values."""

from __future__ import annotations

import io
import logging
import re

import pytest

from app.logs import log_handler, logfmt_value

FORGED = (
    "/reports\n2026-12-07 10:00:00,000 INFO secdigest.security auth.ok key=soar client=10.0.0.1"
)
EVENT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+ request_id=\S+ ")


def _emit(*events: tuple[str, tuple[object, ...]], exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    logger = logging.getLogger("secdigest.test_logs")
    handler = log_handler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for message, args in events:
            logger.warning(message, *args)
        if exc is not None:
            try:
                raise exc
            except type(exc):
                logger.exception("request.failed path=%s", FORGED)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


@pytest.mark.parametrize(
    "value",
    [
        FORGED,
        "/x\r\nauth.ok key=soar",
        "/x\u2028auth.ok key=soar",  # a line separator for many viewers
        "/x\x85auth.ok",  # NEL
        "/x\x1b[2Jauth.ok",  # a terminal escape
        "/x path=/admin",
        'a"quote',
    ],
)
def test_a_request_value_cannot_start_a_line_or_a_field(value: str) -> None:
    output = _emit(("auth.denied reason=%s path=%s client=%s", ("missing", value, "127.0.0.1")))
    lines = output.splitlines()
    assert len(lines) == 1
    assert EVENT_LINE.match(lines[0])
    # The fields read back by a logfmt reader: exactly the three keys we wrote.
    fields = re.findall(r'(\w+)=("(?:\\.|[^"\\])*"|\S+)', lines[0].split(" ", 5)[-1])
    assert [key for key, _ in fields] == ["reason", "path", "client"]


def test_plain_values_stay_as_they_are_and_numbers_keep_their_format() -> None:
    output = _emit(("fetch.done host=%s status=%d ms=%.1f", ("news.example.com", 200, 12.345)))
    assert output.rstrip("\n").endswith("fetch.done host=news.example.com status=200 ms=12.3")


def test_quoted_values_come_back_as_written() -> None:
    import json

    for value in (FORGED, "日本語 のタイトル", 'a"b\\c', "tab\there"):
        assert json.loads(logfmt_value(value)) == value


def test_a_traceback_never_starts_a_line_like_an_event() -> None:
    output = _emit(exc=ValueError("boom\n2026-12-07 10:00:00,000 INFO secdigest auth.ok x=1"))
    lines = output.splitlines()
    assert EVENT_LINE.match(lines[0])
    assert all(line.startswith("    ") for line in lines[1:])
    assert len(lines) > 2
