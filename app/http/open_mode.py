"""Open mode: before any API key exists, the API serves this machine, and only as localhost.

`serve` binds loopback then (`serve_host`), and every request must come from a loopback
address (the security middleware checks it). A web page in the analyst's browser is on this
machine too, so what a page of another site could make that browser send is refused here:
a Host that is not a loopback name (DNS rebinding) and a write whose Origin is another site
(cross-site requests). See SECURITY.md.
"""

from __future__ import annotations

import ipaddress
import logging
import sys

from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Scope

from app.errors import Forbidden, problem_of
from app.http.headers import READ_METHODS, header_values
from app.services import apikeys
from app.state import AppState

log = logging.getLogger("secdigest.security")


def is_loopback(host: str | None) -> bool:
    """Whether an address (client or bind) is this machine: 127/8, ::1, ::ffff:127.x."""
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _host_name(authority: str) -> str:
    """The name of a Host header or an Origin's authority, without its port."""
    if authority.startswith("["):  # [::1]:8000
        return authority[1 : authority.find("]")] if "]" in authority else authority
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def is_loopback_name(authority: str) -> bool:
    """Whether a Host header names this machine: localhost (RFC 6761) or a loopback address.

    A browser page of any site can make its own name resolve to 127.0.0.1 (DNS
    rebinding) and then send requests that carry that name; a name that is not a loopback
    name is therefore never served without a key.
    """
    name = _host_name(authority.strip()).rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost") or is_loopback(name)


def is_loopback_origin(origin: str) -> bool:
    """Whether a browser's Origin is a page of this machine (http(s)://localhost...)."""
    scheme, separator, authority = origin.strip().partition("://")
    if not separator or scheme.lower() not in ("http", "https") or "/" in authority:
        return False  # "null" (sandboxed frames, file: pages) included
    return is_loopback_name(authority)


def bind_host(requested: str, *, keys_exist: bool) -> str:
    """Where `serve` binds: as asked when a key exists, else only loopback."""
    if keys_exist or is_loopback(requested):
        return requested
    return "::1" if ":" in requested else "127.0.0.1"


def open_mode_warning(requested: str, bound: str) -> str:
    """What `serve` says on stderr when no key exists."""
    if requested == bound:
        return (
            f"secdigest: no API key exists: the API is open to this machine only. "
            f"Create one with `{HOW_TO_CREATE}`.\n"
        )
    return (
        f"secdigest: WARNING: no API key exists, and without one --host {requested} would open "
        f"the API to anyone who can reach this machine. Binding {bound} instead (this machine "
        f"only).\n"
        f"secdigest: create a key with `{HOW_TO_CREATE}` (it is printed once), then start "
        f"the server again; clients send it as `Authorization: Bearer <key>` or "
        f"`X-API-Key: <key>`.\n"
    )


async def serve_host(state: AppState, requested: str) -> str:
    """Where `serve` binds: as asked when a key exists, else loopback, said on stderr."""
    try:
        async with state.sessionmaker() as session:
            keys_exist = await apikeys.has_active_key(session)
    except (SQLAlchemyError, OSError) as exc:
        # Unknown counts as none: the safe direction is the loopback interface.
        sys.stderr.write(f"secdigest: could not read the API keys ({type(exc).__name__})\n")
        keys_exist = False
    host = bind_host(requested, keys_exist=keys_exist)
    if not keys_exist:
        sys.stderr.write(open_mode_warning(requested, host))
    return host


def browser_check(scope: Scope, path: str) -> JSONResponse | None:
    """Without a key, what a web page in the analyst's browser could do is refused.

    Any site can make a browser send requests to 127.0.0.1: by rebinding its own name to
    127.0.0.1 (the request then carries that name as Host), or by posting a form or a
    text/plain body from its page (the request carries the page's Origin). Neither needs
    the page to read the answer, so both are refused here: a Host that is not a loopback
    name, and a write whose Origin is not a page of this machine nor a CORS origin.
    """
    # Every copy of a header is judged: a second Host or Origin must not slip past.
    if not all(is_loopback_name(host) for host in header_values(scope, b"host")):
        log.info("auth.denied reason=open-mode-host path=%s", path)
        return problem_of(
            Forbidden,
            "without an API key only localhost, 127.0.0.1 or [::1] may be used as the host "
            f"name; {HOW_TO_CREATE}",
            instance=path,
        )
    origins = header_values(scope, b"origin")
    # The frontend's own origin (SECDIGEST_CORS_ORIGINS) was named by the operator as one
    # that may call with a key; without a key it may write as a page of this machine may.
    state: AppState = scope["app"].state.secdigest
    allowed = state.settings.cors_origins
    if scope["method"] not in READ_METHODS and not all(
        is_loopback_origin(origin) or origin.strip() in allowed for origin in origins
    ):
        log.info("auth.denied reason=open-mode-origin path=%s", path)
        return problem_of(
            Forbidden,
            "without an API key a web page of another site may not change anything "
            f"(cross-site request); {HOW_TO_CREATE}",
            instance=path,
        )
    return None


HOW_TO_CREATE = "secdigest keys create --name NAME --scope read|write"
