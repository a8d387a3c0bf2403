"""Reading an ASGI request's headers the way the edge judges them."""

from __future__ import annotations

from starlette.types import Scope

# A read key may do these; anything else (POST, PUT, PATCH, DELETE, unknown methods) needs
# write. In open mode a page of another site may send these too: without CORS it cannot
# read the answer.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def header_values(scope: Scope, name: bytes) -> list[str]:
    """Every value of a header (lower-case `name`): a second copy must not slip past."""
    return [bytes(v).decode("latin-1").strip() for k, v in scope["headers"] if k == name]


def header_value(scope: Scope, name: bytes) -> str | None:
    """The first value of a header, or None."""
    values = header_values(scope, name)
    return values[0] if values else None


def has_body(scope: Scope) -> bool:
    """Whether the request declares a body (a length other than 0, or chunked)."""
    length = header_value(scope, b"content-length")
    if length is not None:
        return length != "0"
    return header_value(scope, b"transfer-encoding") is not None


def is_json_media_type(content_type: str) -> bool:
    """application/json or any application/...+json (problem+json, merge-patch+json)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))
