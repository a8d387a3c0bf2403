"""The only code that touches the network for pages: a guarded, bounded HTTP GET.

Every hop (the first URL and each redirect) is checked by the guard (netguard.py) and
connected to the addresses it checked (fetch_pin.py); the body is bounded raw and
inflated (fetch_body.py); the whole fetch, DNS included, has one deadline.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TypeVar

import httpx
import pydantic_core

from app.errors import FetchFailed, FetchTimeout, InvalidRequest, NotAnArticle
from app.services.fetch._body import ACCEPT_ENCODING, looks_binary, read_body
from app.services.fetch._pin import PinnedTransport, pinned
from app.services.fetch.netguard import (
    DEFAULT_PORTS,
    AllowList,
    Resolver,
    check_url,
    system_resolver,
)

log = logging.getLogger("secdigest.fetch")

_E = TypeVar("_E", bound=BaseException)

# Request headers that make a GET conditional: only then is a 304 an answer, not a failure.
_CONDITIONAL = frozenset({"if-none-match", "if-modified-since"})

# What we can read as an article (vendors publish many threat reports as PDF). Anything
# else (images, archives, executables) is refused before its body is downloaded.
READABLE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "text/plain",
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/pdf",
    }
)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits of one fetch; built from the settings."""

    allow: AllowList
    timeout: float = 15.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    ports: frozenset[int] = DEFAULT_PORTS
    # Tests play DNS through this; the service uses the system's resolver.
    resolver: Resolver = field(default=system_resolver, compare=False)


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A page as received: bytes, and what the headers said about them."""

    url: str
    final_url: str
    status: int
    content_type: str | None  # the full header, charset included
    body: bytes
    # Validators for a later conditional GET (feeds keep them between pulls).
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """A 304 to a conditional GET: the copy the caller holds is current (no body)."""
        return self.status == 304

    @property
    def media_type(self) -> str:
        """The content type without parameters, lowercase ("" when the server sent none)."""
        return (self.content_type or "").split(";", 1)[0].strip().lower()


def new_http_client(
    *, user_agent: str, timeout: float, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncClient:
    """The shared client: pinned connections, no proxies, no redirects, no shared cookies."""
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=10)
    return httpx.AsyncClient(
        transport=PinnedTransport(verify=verify, limits=limits),
        # Proxy variables would route our guarded requests somewhere we did not check.
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        # The client lives as long as the service: a jar that kept every site's cookies
        # would grow without end and carry one caller's session into another's fetch.
        # Cookies live for one fetch instead (its redirects), in _fetch.
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


async def fetch_page(
    http: httpx.AsyncClient,
    policy: FetchPolicy,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    data_types: frozenset[str] | None = None,
) -> FetchedPage:
    """GET a page: every hop checked by the guard, bounded in redirects, bytes and time.

    `headers` are added to each hop's request (Accept, If-None-Match, If-Modified-Since);
    when the request is conditional, a 304 answer is a page with status 304 and no body.
    `data_types` fetches a data file instead of a page (a JSON catalog, a gzip CSV): the
    media types accepted in place of READABLE_TYPES, and no text sniffing of the body
    (its reader validates it).
    """
    try:
        async with asyncio.timeout(policy.timeout):
            return await _fetch(http, policy, url, headers or {}, data_types)
    except TimeoutError as exc:
        raise FetchTimeout(f"no complete answer from {url} within {policy.timeout:g} s") from exc


def _parse(url: str) -> httpx.URL:
    """The URL to fetch; hosts httpx refuses are read as browsers read them."""
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        # httpx says what is wrong in one line ("Invalid IPv6 address: ..."); pydantic's
        # message below is a multi-line report naming its own internals.
        refusal = str(exc)
    # WHATWG reads 0177.0.0.1 as 127.0.0.1 and full-width digits as digits: read them so,
    # and the guard judges the address they name instead of a 422 hiding the attempt.
    # (httpx itself refuses such a Location header: that redirect ends in fetch-failed.)
    try:
        return httpx.URL(str(pydantic_core.Url(url)))
    except (ValueError, httpx.InvalidURL) as exc:
        log.info("fetch.invalid_url error=%s message=%s", type(exc).__name__, exc)
        raise InvalidRequest(f"not a valid URL: {refusal}") from exc


async def _fetch(
    http: httpx.AsyncClient,
    policy: FetchPolicy,
    url: str,
    headers: Mapping[str, str],
    data_types: frozenset[str] | None,
) -> FetchedPage:
    current = _parse(url)
    conditional = any(name.lower() in _CONDITIONAL for name in headers)
    cookies = httpx.Cookies()
    visited: list[httpx.URL] = []
    for _hop in range(policy.max_redirects + 1):
        visited.append(current)
        target = await check_url(
            current, policy.allow, ports=policy.ports, resolver=policy.resolver
        )
        request = http.build_request("GET", current, headers=headers)
        # Cookies live for this fetch's redirects only (consent walls need them).
        cookies.set_cookie_header(request)
        # Whether the hop's status line and headers came: a failure after them is the body's.
        answered = False
        try:
            with pinned(target):
                response = await http.send(request, stream=True)
                answered = True
                try:
                    cookies.extract_cookies(response)
                    if conditional and response.status_code == 304:
                        return _not_modified(url, current, response)
                    if not response.is_redirect:
                        return await _page(url, current, response, policy, data_types)
                    current = current.join(response.headers["location"])
                    log.info("fetch.redirect to=%s status=%s", current, response.status_code)
                finally:
                    await response.aclose()
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{current.host} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise _failed(current.host, exc, answered=answered) from exc
        except httpx.InvalidURL as exc:
            raise FetchFailed(f"{current.host} redirected to an invalid URL") from exc
    # A URL seen twice is not stopped at once: a site may redirect to itself after setting
    # a cookie. The bound ends every loop; the message tells a loop from a long chain.
    if current in visited:
        raise FetchFailed(f"redirect loop at {current}")
    raise FetchFailed(f"more than {policy.max_redirects} redirects")


def _failed(host: str, exc: httpx.HTTPError, *, answered: bool) -> FetchFailed:
    """fetch-failed saying what happened in words; the exception class goes to our log only.

    Callers read the detail (feed errors, batch problems): `RemoteProtocolError` tells
    them nothing and names our HTTP stack, so it is kept for us.
    """
    log.warning(
        "fetch.failed host=%s stage=%s error=%s message=%s",
        host,
        "body" if answered else "headers",
        type(exc).__name__,
        str(exc),
    )
    return FetchFailed(f"cannot fetch {host}: {_what_happened(exc, answered=answered)}")


# A scheme, as URLs start (`https:`, `mailto:`), but not `host:port` (`example.com:8080/a`).
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d+(?:[/?#]|$))", re.IGNORECASE)
# What a URL without its scheme looks like: a host with a dot (or localhost, or an IPv6
# literal), an optional port, then a path, query or fragment; no space anywhere.
_BARE = re.compile(
    r"^(?://)?(?:\[[0-9a-f:.]+\]|localhost|[^\s/?#\[\]@:]+\.[^\s/?#\[\]@:.]+)"
    r"(?::\d{1,5})?(?:[/?#]\S*)?$",
    re.IGNORECASE,
)


def with_scheme(url: str) -> str:
    """A URL as a browser's address bar or curl reads it: `www.example.com/news` is
    `https://www.example.com/news`; a URL with a scheme is left to the guard (which fetches
    http and https only); InvalidRequest, with an example, for what is no URL at all."""
    text = url.strip()
    if _SCHEME.match(text):
        return text
    if _BARE.match(text):
        return "https://" + text.removeprefix("//")
    raise InvalidRequest(
        f"{_shown(text)} is not a URL: give an address such as https://www.example.com/news",
        field="url",
    )


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def parse_url(url: str) -> httpx.URL:
    """A URL as the guard and the client read it; InvalidRequest when it is none."""
    return _parse(url)


def describe_failure(host: str, exc: httpx.HTTPError) -> str:
    """What happened to a request that got no answer, in words (`host` refused the
    connection, its certificate...); the exception class goes to our log only."""
    log.warning("http.failed host=%s error=%s message=%s", host, type(exc).__name__, str(exc))
    return f"no answer from {host}: {_what_happened(exc, answered=False)}"


def _caused_by(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of a kind in the chain under exc (httpx wraps httpcore wraps OS)."""
    current: BaseException | None = exc
    visited: set[int] = set()  # a chain can be made to loop; this walk must end
    while current is not None and id(current) not in visited:
        if isinstance(current, kind):
            return current
        visited.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _what_happened(exc: httpx.HTTPError, *, answered: bool) -> str:
    # Ordered from the most specific: TLS errors arrive as ConnectError or ReadError, a
    # refused or reset connection as ConnectError or ReadError over an OSError.
    certificate = _caused_by(exc, ssl.SSLCertVerificationError)
    if certificate is not None:
        # OpenSSL's own words ("Hostname mismatch, ...", "certificate has expired").
        reason = (certificate.verify_message or "it could not be verified").rstrip(".")
        return f"its TLS certificate was refused ({reason})"
    if _caused_by(exc, ssl.SSLError) is not None:
        if isinstance(exc, httpx.ConnectError):
            return "the TLS handshake failed"
        return "the TLS connection broke"
    if _caused_by(exc, ConnectionRefusedError) is not None:
        return "the connection was refused"
    if _caused_by(exc, ConnectionResetError) is not None:
        return "the connection was reset " + (
            "in the middle of the answer" if answered else "before any answer"
        )
    # h11 and httpcore say which protocol failure it was only in their messages.
    message = str(exc).lower()
    if isinstance(exc, httpx.RemoteProtocolError):
        if answered:
            if "closed" in message:
                return "the site closed the connection before the page was complete"
            return "the site sent a malformed page body"
        if "disconnected" in message or "closed" in message:
            return "the site closed the connection without answering"
        return "the site answered with something that is not HTTP"
    if isinstance(exc, httpx.ConnectError):
        return "no connection could be made"
    if isinstance(exc, httpx.ReadError):
        return "the connection broke while the answer was read"
    if isinstance(exc, httpx.WriteError):
        return "the connection broke while the request was sent"
    if isinstance(exc, httpx.LocalProtocolError):
        return "the request could not be sent as valid HTTP"
    if isinstance(exc, httpx.DecodingError):
        return "the page's encoding could not be decoded"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "the URL's scheme is not supported"
    if isinstance(exc, httpx.ProxyError):
        return "a proxy refused the request"
    if isinstance(exc, httpx.ProtocolError):
        return "the site broke the HTTP protocol"
    return "the connection failed"


def _not_modified(url: str, current: httpx.URL, response: httpx.Response) -> FetchedPage:
    # The body of a 304 is empty by definition; it is not read.
    log.info("fetch.not_modified url=%s", current)
    return FetchedPage(
        url=url,
        final_url=str(current),
        status=304,
        content_type=response.headers.get("content-type"),
        body=b"",
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )


async def _page(
    url: str,
    current: httpx.URL,
    response: httpx.Response,
    policy: FetchPolicy,
    data_types: frozenset[str] | None = None,
) -> FetchedPage:
    if response.status_code >= 300:
        raise FetchFailed(
            f"{current.host} answered {response.status_code} {response.reason_phrase}",
            upstream_status=response.status_code,
        )
    content_type = response.headers.get("content-type")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type and media_type not in (data_types or READABLE_TYPES):
        raise NotAnArticle(f"the URL serves {media_type}, not a readable page")
    body = await read_body(response, policy.max_bytes)
    # Servers label anything text/html; the extractor is for text, so binary stops here.
    pdf = media_type == "application/pdf" or body[:1024].lstrip().startswith(b"%PDF-")
    if data_types is None and not pdf and looks_binary(body):
        raise NotAnArticle("the URL serves binary data, not a readable page")
    log.info("fetch.done url=%s status=%s bytes=%d", current, response.status_code, len(body))
    return FetchedPage(
        url=url,
        final_url=str(current),
        status=response.status_code,
        content_type=content_type,
        body=body,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )
