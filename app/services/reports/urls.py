"""URL normalisation: the key under which an article is stored, so re-submissions are free."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.errors import FetchBlocked, InvalidRequest

# Parameters that only say where a click came from; they never change the page.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "_hs")
_TRACKING_NAMES = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "_ga", "ref_src", "mkt_tok"}
    # What Google's AMP viewer appends.
    | {"amp_js_v", "amp_gsa", "usqp"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Parameters that ask a site for its AMP rendering of the same article (`?amp`, `?amp=1`,
# `?outputType=amp` of the Washington Post), with the values that mean "yes".
_AMP_PARAMETERS = {"amp": {"", "1", "true"}, "outputtype": {"amp"}, "output": {"amp"}}
# The last path segment of an AMP page: `/story/amp`, `/story/amp/` (WordPress and most
# CMS plugins), `/story.amp`, `/story.amp.html`. Only whole segments and dot suffixes:
# `/ampere`, `/camp/`, `/guitar-amp.html` are other pages.
_AMP_SEGMENT = re.compile(r"/amp(/?)$", re.IGNORECASE)
_AMP_SUFFIX = re.compile(r"(?<=[^/])\.amp(?=(?:\.html?)?/?$)", re.IGNORECASE)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def _is_amp_request(name: str, value: str) -> bool:
    return value.lower() in _AMP_PARAMETERS.get(name.lower(), ())


def _non_amp_path(path: str) -> str:
    """The path of the article an AMP page renders (the page's rel=canonical, by convention).

    Not the `amp.` host prefix: whether its twin is `www.`, the bare domain or `edition.`
    cannot be told from the URL, and AMP pages must declare rel=canonical, which the
    pipeline follows after the fetch (app/services/dedupe.py).
    """
    path = _AMP_SEGMENT.sub(r"\1", path, count=1)
    return _AMP_SUFFIX.sub("", path, count=1)


def canonical_url(url: str) -> str:
    """Lowercase scheme and host, no default port, no fragment, no tracking or AMP parameters,
    and the article's own path for an AMP variant (`/story/amp/` is `/story/`)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidRequest(f"not a valid URL: {url!r}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise FetchBlocked(f"only http and https URLs are fetched, not {scheme or 'none'!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidRequest(f"the URL has no host: {url!r}")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        raise FetchBlocked("URLs with credentials are not fetched")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _is_tracking(k) and not _is_amp_request(k, v)]
    # Re-encode only when something was dropped: the query is otherwise kept byte for byte.
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    return urlunsplit((scheme, netloc, _non_amp_path(parts.path) or "/", query, ""))
