"""The problem types' own pages: `/problems/<slug>`, the `type` of every problem answer.

RFC 9457 suggests that a type URI, dereferenced, says what the problem is; ours answer a
short HTML page (title, status, when it happens), open to anyone like the API's description.
The words are those of the table in docs/api.md ("Problem types"); a test holds every class
of PROBLEM_TYPES to a page.
"""

from __future__ import annotations

import html
import re

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.errors import PROBLEM_TYPES, NotFound

PROBLEMS_PATH = "/problems/"

router = APIRouter(tags=["problems"], include_in_schema=False)

WHEN: dict[str, str] = {
    "bad-request": "The server could not parse the HTTP request at all.",
    "unauthorized": "No key, or a wrong or revoked one (`WWW-Authenticate: Bearer`). Send "
    "`Authorization: Bearer <key>` or `X-API-Key: <key>`.",
    "forbidden": "A read key asked to change something; without a key, a `Host` that is not "
    "a loopback name or a write from another site's page (`Origin`).",
    "not-found": "No such path, or no report for that day, no such item, feed or job.",
    "method-not-allowed": "Wrong method for the path.",
    "not-acceptable": "`Accept` (or `?format=`) allows none of the answer's media types; the "
    "`detail` lists the formats the resource has. `*/*` or no `Accept` means JSON.",
    "conflict": "A request with the same `Idempotency-Key` is still being answered "
    "(`Retry-After`); a URL already in that day's report (`item_id`); a feed already "
    "subscribed (`feed_id`).",
    "payload-too-large": "A body over `SECDIGEST_MAX_BODY_BYTES`, an imported report over 2 MB.",
    "unsupported-media-type": "A `POST` or `PATCH` body that is not JSON; "
    "`PUT /reports/{date}` without `Content-Type: text/markdown`.",
    "invalid-request": "The body, a parameter or an imported Markdown is invalid (`detail` "
    "names the field or the line; `errors` lists them all).",
    "not-an-article": "Nothing readable: an image, an archive, an empty page.",
    "not-a-feed": "A feed URL answered with neither RSS nor Atom.",
    "rate-limited": "Past `SECDIGEST_RATE_LIMIT` (or `SECDIGEST_AUTH_FAIL_LIMIT` for failing "
    "requests); `Retry-After` says when to come back.",
    "fetch-blocked": "The URL or a redirect points at a private, loopback, link-local or "
    "metadata address, an odd scheme or port, or carries credentials.",
    "fetch-failed": "The site answered an error, or not at all.",
    "fetch-too-large": "The page is over `SECDIGEST_FETCH_MAX_BYTES`.",
    "fetch-timeout": "The site did not answer within `SECDIGEST_FETCH_TIMEOUT`.",
    "not-ready": "`/readyz`: the database is unreachable or not migrated.",
    "internal-error": "A bug; logged under the answer's `request_id`, never a stack trace.",
}

_CODE = re.compile(r"`([^`]+)`")
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} - secdigest</title></head>
<body>
<h1>{title}</h1>
<p>Problem type <code>/problems/{slug}</code>, HTTP status <strong>{status}</strong>.</p>
<p>{when}</p>
<p>Answers of this type are <code>application/problem+json</code> (RFC 9457): <code>type</code>,
<code>title</code>, <code>status</code>, <code>detail</code> and sometimes extensions.</p>
</body>
</html>
"""
# A page of text and nothing else: no script, no style, no frame.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=86400",
}


def _render(slug: str, title: str, status: int) -> str:
    when = _CODE.sub(r"<code>\1</code>", html.escape(WHEN[slug], quote=False))
    return _PAGE.format(title=html.escape(title), slug=slug, status=status, when=when)


_PAGES = {
    error.slug: _render(error.slug, error.title, error.status_code) for error in PROBLEM_TYPES
}


@router.get(PROBLEMS_PATH + "{slug}")
async def problem_type(slug: str) -> HTMLResponse:
    """What a problem type means."""
    page = _PAGES.get(slug)
    if page is None:
        raise NotFound(f"no problem type {slug!r}")
    return HTMLResponse(page, headers=_HEADERS)
