"""A hostile site through the API: each attack ends in a problem+json within its deadline,
memory stays bounded, nothing internal is reached, and the service keeps answering."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import tracemalloc
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from app.state import AppState
from tests.support.hostile import MB, Canary, HostileServer

PROBLEM = "application/problem+json"
DEADLINE = 1.0  # SECDIGEST_FETCH_TIMEOUT for these tests
MARGIN = 2.0  # what the app itself may add (extraction, storage, a busy CI machine)
CAP = 2 * MB  # SECDIGEST_FETCH_MAX_BYTES for these tests

HOSTILE = [
    ("/big-declared", 502, "fetch-too-large"),  # 50 MB, Content-Length says so
    ("/big-undeclared", 502, "fetch-too-large"),  # 50 MB until the connection closes
    ("/big-chunked", 502, "fetch-too-large"),  # 50 MB in chunks
    ("/gzip-bomb", 502, "fetch-too-large"),  # 1 MB declared, ~1 GB inflated
    ("/gzip-bomb-undeclared", 502, "fetch-too-large"),  # 10 MB, ~10 GB inflated
    ("/deflate-bomb", 502, "fetch-too-large"),
    ("/brotli", 502, "fetch-failed"),  # an encoding we did not ask for and cannot bound
    ("/drip", 504, "fetch-timeout"),  # a byte every quarter second, forever
    ("/drip-headers", 504, "fetch-timeout"),  # the same, before the headers end
    ("/loop", 502, "fetch-failed"),
    ("/loop-a", 502, "fetch-failed"),
    ("/to-private", 400, "fetch-blocked"),
    ("/to-metadata", 400, "fetch-blocked"),
    ("/to-metadata-v6", 400, "fetch-blocked"),
    ("/to-file", 400, "fetch-blocked"),
    ("/binary-as-html", 422, "not-an-article"),
]


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    """The hostile site; its drip is faster than the client's read timeout, so only the
    overall deadline can stop it."""
    with HostileServer(drip_interval=0.25) as server:
        yield server


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    """A loopback port nobody may reach."""
    port = Canary()
    yield port
    port.close()


@pytest.fixture
def settings(settings: Settings, hostile: HostileServer, canary: Canary) -> Settings:
    """Short deadline, small cap, only the hostile site allowed (loopback stays blocked)."""
    return Settings(
        _env_file=None,
        database_url=settings.database_url,
        fetch_allow=[f"127.0.0.1:{hostile.port}"],
        # The canary's port is open: only its address may keep the service away.
        fetch_ports=[80, 443, canary.port],
        fetch_timeout=DEADLINE,
        fetch_max_bytes=CAP,
        lang="en",
    )


@pytest.fixture
def app(app: FastAPI, settings: Settings) -> FastAPI:
    """The app, its fetch policy holding the configured ports.

    AppState builds the policy; until it passes SECDIGEST_FETCH_PORTS itself, set them here
    so that the canary tests prove the address check, not the port check, stops them.
    """
    state: AppState = app.state.secdigest
    ports = frozenset(settings.fetch_ports)
    state.fetch_policy = dataclasses.replace(state.fetch_policy, ports=ports)
    return app


async def _summarize(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await client.post("/summarize", json={"url": url})
    return response, time.monotonic() - started


def _assert_problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert "Traceback" not in body["detail"]


@pytest.mark.parametrize(("path", "status", "slug"), HOSTILE)
async def test_each_attack_ends_in_a_problem_within_the_deadline(
    client: httpx.AsyncClient, hostile: HostileServer, path: str, status: int, slug: str
) -> None:
    response, elapsed = await _summarize(client, hostile.url(path))

    _assert_problem(response, status, slug)
    assert elapsed < DEADLINE + MARGIN
    assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_a_gzip_bomb_is_not_inflated_past_the_cap(
    client: httpx.AsyncClient, hostile: HostileServer
) -> None:
    await _summarize(client, hostile.url("/gzip-article"))  # warm up: imports, pools
    tracemalloc.start()
    try:
        response, _ = await _summarize(client, hostile.url("/gzip-bomb-undeclared"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    _assert_problem(response, 502, "fetch-too-large")
    # The whole request, app included, stayed near one cap of bytes (10 GB were offered).
    assert peak < 2 * CAP


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/", "http://localhost:{port}/", "http://[::ffff:127.0.0.1]:{port}/"],
)
async def test_a_redirect_to_the_canary_is_blocked_and_never_connects(
    client: httpx.AsyncClient, hostile: HostileServer, canary: Canary, target: str
) -> None:
    to = quote(target.format(port=canary.port), safe="")

    response, _ = await _summarize(client, hostile.url(f"/redirect?to={to}"))

    _assert_problem(response, 400, "fetch-blocked")
    assert "public address" in response.json()["detail"]
    assert canary.connections() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://0177.0.0.1:{port}/",
        "http://２１３０７０６４３３:{port}/",
        "http://localhost:{port}/",
        "http://[::]:{port}/",
    ],
)
async def test_a_submitted_url_to_the_canary_is_blocked_and_never_connects(
    client: httpx.AsyncClient, canary: Canary, url: str
) -> None:
    response, _ = await _summarize(client, url.format(port=canary.port))

    _assert_problem(response, 400, "fetch-blocked")
    assert "public address" in response.json()["detail"]
    assert canary.connections() == 0


@pytest.mark.parametrize("path", ["/sjis-labelled-utf8", "/utf8-labelled-sjis"])
async def test_mislabelled_charsets_still_read_as_japanese(
    client: httpx.AsyncClient, hostile: HostileServer, path: str
) -> None:
    response, _ = await _summarize(client, hostile.url(path))

    assert response.status_code == 200, response.text
    assert response.json()["original_title"].startswith("物流大手にランサムウェア攻撃")


async def test_a_hundred_thousand_nested_divs_are_read_within_the_deadline(
    client: httpx.AsyncClient, hostile: HostileServer
) -> None:
    response, elapsed = await _summarize(client, hostile.url("/nested-divs"))

    assert elapsed < DEADLINE + MARGIN
    if response.status_code != 200:
        _assert_problem(response, 422, "not-an-article")


@pytest.mark.parametrize("path", ["/gzip-article", "/deflate-article", "/raw-deflate-article"])
async def test_compressed_articles_are_read(
    client: httpx.AsyncClient, hostile: HostileServer, path: str
) -> None:
    response, _ = await _summarize(client, hostile.url(path))

    assert response.status_code == 200, response.text
    assert "Ember Lynx" in response.json()["original_title"]


async def test_all_attacks_at_once_leave_the_service_answering(
    client: httpx.AsyncClient, hostile: HostileServer
) -> None:
    started = time.monotonic()
    responses = await asyncio.gather(
        *(client.post("/summarize", json={"url": hostile.url(p)}) for p, _, _ in HOSTILE)
    )

    assert time.monotonic() - started < DEADLINE + MARGIN
    for response, (_, status, slug) in zip(responses, HOSTILE, strict=True):
        _assert_problem(response, status, slug)
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ok = await client.post("/summarize", json={"url": hostile.url("/article")})
    assert ok.status_code == 200, ok.text
