"""The OpenAPI description of problem answers: one `Problem` schema, every error declared.

FastAPI documents a 422 as its own `HTTPValidationError`, which the service never sends (a
validation error is an `invalid-request` problem), and a response declared as
`application/problem+json` without a schema. `document_problems` walks the whole
description once: every answer of status 400 and above is `application/problem+json` with
the `Problem` schema, and an operation that negotiates (`?format=`) declares its 406.
"""

from __future__ import annotations

import json
from typing import Any

from app.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem: a stable `type` (`/problems/<slug>`, a page that "
    "says what it means), and sometimes extensions (`errors`, `item_id`, `formats`...).",
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": "The problem type, e.g. /problems/invalid-request.",
            "examples": ["/problems/invalid-request"],
        },
        "title": {"type": "string", "description": "The type's title (the same for a type)."},
        "status": {"type": "integer", "description": "The HTTP status."},
        "detail": {"type": "string", "description": "What went wrong with this request."},
        "instance": {
            "type": "string",
            "format": "uri-reference",
            "description": "The path of the request.",
        },
        "errors": {
            "type": "array",
            "description": "invalid-request: every invalid field (loc, msg, type).",
            "items": {"type": "object", "additionalProperties": True},
        },
        "request_id": {"type": "string", "description": "internal-error: quote it."},
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}
# TAXII answers its own error message, not a problem (TAXII 2.1, 3.6.1); the key check's
# 401, 403 and 429 in front of it stay problems.
TAXII_MEDIA_PREFIX = "application/taxii+json"
TAXII_ERROR_REF = "#/components/schemas/TaxiiError"
TAXII_ERROR_SCHEMA: dict[str, Any] = {
    "title": "TaxiiError",
    "type": "object",
    "description": "A TAXII 2.1 error message.",
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "error_code": {"type": "string"},
        "http_status": {"type": "string"},
    },
    "required": ["title"],
    "additionalProperties": True,
}
_KEY_CHECK = ("401", "403", "429")
_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")
_NOT_ACCEPTABLE = {
    "description": "not-acceptable: no format of the resource matches `?format=` or Accept",
}


def document_problems(schema: dict[str, Any]) -> None:
    """Give every error answer of the description the Problem schema (in place)."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            if any(p.get("name") == "format" for p in operation.get("parameters", ())):
                responses.setdefault("406", dict(_NOT_ACCEPTABLE))
            taxii = _taxii_media_type(responses)
            if taxii is not None:
                schemas["TaxiiError"] = TAXII_ERROR_SCHEMA
            for status, response in responses.items():
                if not (status.isdigit() and int(status) >= 400):
                    if PROBLEM_JSON in response.get("content", {}):
                        response["content"][PROBLEM_JSON] = problem[PROBLEM_JSON]
                elif taxii is not None and status not in _KEY_CHECK:
                    response["content"] = {taxii: {"schema": {"$ref": TAXII_ERROR_REF}}}
                else:
                    # FastAPI's 422 (HTTPValidationError as application/json) included.
                    response["content"] = dict(problem)
    # The framework's validation schemas, once nothing refers to them any more.
    for name in _FRAMEWORK_SCHEMAS:
        if name in schemas and not _referenced(schema, name):
            del schemas[name]


def _taxii_media_type(responses: dict[str, Any]) -> str | None:
    """TAXII's media type when the operation answers it (a TAXII endpoint), else None."""
    for response in responses.values():
        for media_type in response.get("content", {}):
            if media_type.startswith(TAXII_MEDIA_PREFIX):
                return str(media_type)
    return None


def _referenced(schema: dict[str, Any], name: str) -> bool:
    ref = json.dumps(f"#/components/schemas/{name}")
    others = {
        key: value
        for key, value in schema["components"]["schemas"].items()
        if key not in _FRAMEWORK_SCHEMAS
    }
    return ref in json.dumps(schema.get("paths", {})) or ref in json.dumps(others)
