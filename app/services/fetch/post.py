"""A guarded POST: webhooks reach receivers that users name, through the same guard as
fetches (the URL's addresses checked, the connection pinned to them, no redirect
followed, one deadline for the whole exchange)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from app.errors import FetchFailed, FetchTimeout
from app.services.fetch._pin import pinned
from app.services.fetch.client import FetchPolicy, describe_failure, parse_url
from app.services.fetch.netguard import check_url

# A receiver's answer is read only to say what went wrong: a little of it is enough.
EXCERPT_BYTES = 512


@dataclass(frozen=True, slots=True)
class PostAnswer:
    """What a receiver answered: its status, its Retry-After, the start of its body."""

    status: int
    retry_after: str | None
    excerpt: str


async def post_guarded(
    http: httpx.AsyncClient,
    policy: FetchPolicy,
    *,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    seconds: float,
) -> PostAnswer:
    """POST `content` to `url`; FetchBlocked when the guard refuses the URL, FetchTimeout
    past `seconds` (DNS, connection, the answer), FetchFailed when no answer came. A 3xx
    is an answer like any other (Standard Webhooks: redirects are not followed)."""
    current = parse_url(url)
    try:
        async with asyncio.timeout(seconds):
            target = await check_url(
                current, policy.allow, ports=policy.ports, resolver=policy.resolver
            )
            request = http.build_request("POST", current, content=content, headers=headers)
            with pinned(target):
                response = await http.send(request, stream=True)
                try:
                    excerpt = b""
                    async for chunk in response.aiter_raw():
                        excerpt += chunk
                        if len(excerpt) >= EXCERPT_BYTES:
                            break
                finally:
                    await response.aclose()
    except TimeoutError as exc:
        raise FetchTimeout(f"{current.host} did not answer within {seconds:g} s") from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"{current.host} did not answer in time") from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(describe_failure(current.host, exc)) from exc
    return PostAnswer(
        status=response.status_code,
        retry_after=response.headers.get("retry-after"),
        excerpt=excerpt[:EXCERPT_BYTES].decode("utf-8", "replace"),
    )
