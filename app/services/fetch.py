"""The only code that touches the network for pages: a guarded, bounded HTTP GET."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from app.errors import FetchFailed, FetchTimeout, FetchTooLarge, InvalidRequest, NotAnArticle
from app.services.netguard import AllowList, check_url

log = logging.getLogger("secdigest.fetch")

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


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A page as received: bytes, and what the headers said about them."""

    url: str
    final_url: str
    status: int
    content_type: str | None  # the full header, charset included
    body: bytes

    @property
    def media_type(self) -> str:
        """The content type without parameters, lowercase ("" when the server sent none)."""
        return (self.content_type or "").split(";", 1)[0].strip().lower()


def new_http_client(*, user_agent: str, timeout: float) -> httpx.AsyncClient:
    """The shared client: no proxies from the environment, no automatic redirects."""
    return httpx.AsyncClient(
        # Proxy variables would route our guarded requests somewhere we did not check.
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
        },
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
    )


async def fetch_page(http: httpx.AsyncClient, policy: FetchPolicy, *, url: str) -> FetchedPage:
    """GET a page: every hop checked by the guard, bounded in redirects, bytes and time."""
    try:
        async with asyncio.timeout(policy.timeout):
            return await _fetch(http, policy, url)
    except TimeoutError as exc:
        raise FetchTimeout(f"no complete answer from {url} within {policy.timeout:g} s") from exc


async def _fetch(http: httpx.AsyncClient, policy: FetchPolicy, url: str) -> FetchedPage:
    try:
        current = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise InvalidRequest(f"not a valid URL: {exc}") from exc
    for _hop in range(policy.max_redirects + 1):
        await check_url(current, policy.allow)
        try:
            async with http.stream("GET", current) as response:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    current = current.join(location)
                    log.info("fetch.redirect to=%s status=%s", current, response.status_code)
                    continue
                if response.status_code >= 400:
                    raise FetchFailed(
                        f"{current.host} answered {response.status_code} {response.reason_phrase}",
                        upstream_status=response.status_code,
                    )
                content_type = response.headers.get("content-type")
                media_type = (content_type or "").split(";", 1)[0].strip().lower()
                if media_type and media_type not in READABLE_TYPES:
                    raise NotAnArticle(f"the URL serves {media_type}, not a readable page")
                body = await _read_capped(response, policy.max_bytes)
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{current.host} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(f"cannot fetch {current.host}: {type(exc).__name__}") from exc
        log.info("fetch.done url=%s status=%s bytes=%d", current, response.status_code, len(body))
        return FetchedPage(
            url=url,
            final_url=str(current),
            status=response.status_code,
            content_type=content_type,
            body=body,
        )
    raise FetchFailed(f"more than {policy.max_redirects} redirects")


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchTooLarge(f"the page declares {declared} bytes; the limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    # Decoded bytes are counted, so a small compressed body that inflates past the cap
    # is stopped as well.
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchTooLarge(f"the page is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
