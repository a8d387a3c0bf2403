"""Representations of cached reads: negotiation, conditional requests, caching headers.

RFC 9110 (ETag, If-None-Match, 304) and 9111 (Cache-Control); used alike by the routes and
by the fast path that answers cache hits before routing (app/http/reads.py).
"""

from __future__ import annotations

from app.errors import NotAcceptable
from app.services.reports.reads import Rendered, Representation

JSON = "application/json"
MARKDOWN = "text/markdown"
STIX = "application/stix+json"
CSV = "text/csv"
HTML = "text/html"
# What `GET /reports/{date}?format=` takes: the renderings of the report (JSON, Markdown,
# a page to read), and exports.
DAY_FORMATS = ("json", "md", "html", "stix", "misp", "csv")
# The media types a client may ask a day in by Accept (MISP only by `?format=misp`).
DAY_MEDIA_TYPES = (JSON, MARKDOWN, HTML, STIX, CSV)
# What POST /summarize answers: the article as JSON or as its Markdown block.
SUMMARY_FORMATS = ("json", "md")

# Clients may keep a copy but must ask before using it: the answer is a 304 when nothing
# changed. "private": a day's report is for the caller who holds the key, not for shared
# caches between them.
CACHE_CONTROL = "private, no-cache"
VARY = "Accept, Accept-Encoding"


def validators(representation: Representation) -> dict[str, str]:
    """ETag, Last-Modified, Cache-Control and Vary of a representation."""
    headers = {"ETag": representation.etag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}
    if representation.last_modified is not None:
        headers["Last-Modified"] = representation.last_modified
    return headers


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names this ETag (weak comparison, as GET and HEAD use)."""
    offered = if_none_match
    if offered is None:
        return False
    if offered.strip() == "*":
        return True
    current = _opaque(etag)
    return any(_opaque(tag) == current for tag in offered.split(","))


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding admits gzip (and does not refuse it with q=0)."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip()
            return quality not in ("0", "0.0", "0.00", "0.000")
    return False


def prefers_markdown(format_: str | None, accept: str | None) -> bool:
    """`?format=md`, or an Accept header that prefers text/markdown to JSON."""
    if format_ is not None:
        return format_ == "md"
    accept = accept or ""
    return MARKDOWN in accept and "application/json" not in accept.split(MARKDOWN)[0]


def answer(
    representation: Representation, rendered: Rendered | None, if_none_match: str | None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a cached representation: 304 without a body when the
    client's copy is current (or no body is given), else the bytes; validators always."""
    headers = validators(representation)
    if rendered is None or not_modified(if_none_match, representation.etag):
        return 304, headers, b""
    headers["Content-Type"] = representation.media_type
    if rendered.gzipped:
        headers["Content-Encoding"] = "gzip"
    return 200, headers, rendered.body


def prefers_html(accept: str | None) -> bool:
    """Whether Accept asks for text/html before JSON, as a browser does
    (`text/html,application/xhtml+xml,...,*/*;q=0.8`); `*/*` alone is not a browser."""
    for part in (accept or "").lower().split(","):
        media_range, *params = (piece.strip() for piece in part.split(";"))
        if media_range == "application/json":
            return False
        if media_range == HTML:
            quality = next((p[2:].strip() for p in params if p.startswith("q=")), "1")
            return quality not in ("0", "0.0", "0.00", "0.000")
    return False


def _ranges(accept: str) -> list[str]:
    """The media ranges of an Accept header that are not refused (q=0), lowercased."""
    ranges = []
    for part in accept.lower().split(","):
        media_range, *params = (piece.strip() for piece in part.split(";"))
        quality = next((p[2:].strip() for p in params if p.startswith("q=")), "1")
        if media_range and quality not in ("0", "0.0", "0.00", "0.000"):
            ranges.append(media_range)
    return ranges


def admits(accept: str | None, media_type: str) -> bool:
    """Whether Accept admits a media type: missing or empty, `*/*`, `type/*` or itself."""
    if accept is None or not accept.strip():
        return True
    kind = media_type.split("/", 1)[0]
    return any(r in ("*/*", f"{kind}/*", media_type) for r in _ranges(accept))


def not_acceptable(
    what: str, formats: tuple[str, ...], media_types: tuple[str, ...]
) -> NotAcceptable:
    """The 406 of a refused `?format=` or Accept, naming what the resource has."""
    return NotAcceptable(
        f"{what}: this resource is available as {', '.join(media_types)} "
        f"(?format={'|'.join(formats)}); */* or no Accept means JSON",
        formats=list(formats),
    )


def wanted_format(format_: str | None, accept: str | None) -> str:
    """A day's format: `?format=`, else what Accept asks for (STIX, CSV, Markdown, HTML),
    else JSON; NotAcceptable (406) when neither names a format the day has."""
    if format_ is not None:
        if format_ not in DAY_FORMATS:
            raise not_acceptable(f"format={format_}", DAY_FORMATS, DAY_MEDIA_TYPES)
        return format_
    accept = accept or ""
    if STIX in accept:
        return "stix"
    if CSV in accept:
        return "csv"
    if prefers_markdown(None, accept):
        return "md"
    if prefers_html(accept):
        return "html"
    if admits(accept, JSON):
        return "json"
    if admits(accept, MARKDOWN):  # text/*
        return "md"
    raise not_acceptable(f"Accept: {accept}", DAY_FORMATS, DAY_MEDIA_TYPES)


def wanted_markdown(format_: str | None, accept: str | None) -> bool:
    """An article's format (POST /summarize): `?format=md` or an Accept that prefers
    Markdown, else JSON; NotAcceptable (406) when neither names JSON or Markdown."""
    if format_ is not None:
        if format_ not in SUMMARY_FORMATS:
            raise not_acceptable(f"format={format_}", SUMMARY_FORMATS, (JSON, MARKDOWN))
        return format_ == "md"
    if prefers_markdown(None, accept):
        return True
    if admits(accept, JSON):
        return False
    if admits(accept, MARKDOWN):
        return True
    raise not_acceptable(f"Accept: {accept}", SUMMARY_FORMATS, (JSON, MARKDOWN))
