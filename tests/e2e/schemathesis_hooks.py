"""Schemathesis check: no server error of ours.

502 and 504 are answers about somebody else's server (the site to fetch did not answer or
answered badly: fuzzed URLs point nowhere), documented in the OpenAPI as fetch problems.
Any other 5xx, or a 5xx that is not such a problem+json, is a failure of the service.
"""

from __future__ import annotations

import schemathesis

UPSTREAM = {
    502: ("/problems/fetch-failed", "/problems/fetch-too-large"),
    504: ("/problems/fetch-timeout",),
}


@schemathesis.check
def no_server_error_of_ours(ctx: object, response: schemathesis.Response, case: object) -> None:
    """Fail on 5xx unless it is a documented upstream fetch problem."""
    if response.status_code < 500:
        return
    allowed = UPSTREAM.get(response.status_code, ())
    content_type = response.headers.get("content-type", [""])
    media = content_type[0] if isinstance(content_type, list) else str(content_type)
    kind = response.json().get("type") if media.startswith("application/problem+json") else None
    if kind not in allowed:
        raise AssertionError(f"server error {response.status_code}: {response.text[:300]}")
