"""The only code that touches the network for pages: a guarded, bounded HTTP GET.

Every hop (the first URL and each redirect) is checked by the guard (netguard.py) and
connected to the addresses it checked (fetch_pin.py); the body is bounded raw and
inflated (fetch_body.py); the whole fetch, DNS included, has one deadline.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
import pydantic_core

from app.errors import FetchFailed, FetchTimeout, InvalidRequest, NotAnArticle
from app.services.fetch_body import ACCEPT_ENCODING, looks_binary, read_body
from app.services.fetch_pin import PinnedTransport, pinned
from app.services.netguard import DEFAULT_PORTS, AllowList, Resolver, check_url, system_resolver

log = logging.getLogger("secdigest.fetch")

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
) -> FetchedPage:
    """GET a page: every hop checked by the guard, bounded in redirects, bytes and time.

    `headers` are added to each hop's request (Accept, If-None-Match, If-Modified-Since);
    when the request is conditional, a 304 answer is a page with status 304 and no body.
    """
    try:
        async with asyncio.timeout(policy.timeout):
            return await _fetch(http, policy, url, headers or {})
    except TimeoutError as exc:
        raise FetchTimeout(f"no complete answer from {url} within {policy.timeout:g} s") from exc


def _parse(url: str) -> httpx.URL:
    """The URL to fetch; hosts httpx refuses are read as browsers read them."""
    try:
        return httpx.URL(url)
    except httpx.InvalidURL:
        pass
    # WHATWG reads 0177.0.0.1 as 127.0.0.1 and full-width digits as digits: read them so,
    # and the guard judges the address they name instead of a 422 hiding the attempt.
    # (httpx itself refuses such a Location header: that redirect ends in fetch-failed.)
    try:
        return httpx.URL(str(pydantic_core.Url(url)))
    except (ValueError, httpx.InvalidURL) as exc:
        raise InvalidRequest(f"not a valid URL: {exc}") from exc


async def _fetch(
    http: httpx.AsyncClient, policy: FetchPolicy, url: str, headers: Mapping[str, str]
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
        try:
            with pinned(target):
                response = await http.send(request, stream=True)
                try:
                    cookies.extract_cookies(response)
                    if conditional and response.status_code == 304:
                        return _not_modified(url, current, response)
                    if not response.is_redirect:
                        return await _page(url, current, response, policy)
                    current = current.join(response.headers["location"])
                    log.info("fetch.redirect to=%s status=%s", current, response.status_code)
                finally:
                    await response.aclose()
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{current.host} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(f"cannot fetch {current.host}: {type(exc).__name__}") from exc
        except httpx.InvalidURL as exc:
            raise FetchFailed(f"{current.host} redirected to an invalid URL") from exc
    # A URL seen twice is not stopped at once: a site may redirect to itself after setting
    # a cookie. The bound ends every loop; the message tells a loop from a long chain.
    if current in visited:
        raise FetchFailed(f"redirect loop at {current}")
    raise FetchFailed(f"more than {policy.max_redirects} redirects")


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
    url: str, current: httpx.URL, response: httpx.Response, policy: FetchPolicy
) -> FetchedPage:
    if response.status_code >= 300:
        raise FetchFailed(
            f"{current.host} answered {response.status_code} {response.reason_phrase}",
            upstream_status=response.status_code,
        )
    content_type = response.headers.get("content-type")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type and media_type not in READABLE_TYPES:
        raise NotAnArticle(f"the URL serves {media_type}, not a readable page")
    body = await read_body(response, policy.max_bytes)
    # Servers label anything text/html; the extractor is for text, so binary stops here.
    pdf = media_type == "application/pdf" or body[:1024].lstrip().startswith(b"%PDF-")
    if not pdf and looks_binary(body):
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
