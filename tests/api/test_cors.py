"""CORS for a frontend on its own origin: real preflights and reads from an allowed and a
refused origin; off (as before) when SECDIGEST_CORS_ORIGINS is unset; never `*`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from app.db import session_scope
from app.main import create_app
from app.services import apikeys
from app.settings import Settings
from app.state import AppState
from tests.support.databases import empty_all_tables

FRONTEND = "https://digest.example.org"
STRANGER = "https://evil.example.net"
DAY = "2024-12-06"
IOCS = {"text": "beacon to hxxps://evil[.]com/gate and 45.137.21[.]9"}


@pytest.fixture
async def cors_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with one CORS origin."""
    application = create_app(settings.model_copy(update={"cors_origins": [FRONTEND]}))
    async with application.router.lifespan_context(application):
        await empty_all_tables(application.state.secdigest.engine)
        yield application


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost")


async def _key(app: FastAPI, scope: str = "write") -> str:
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        return (await apikeys.create_key(session, name="frontend", scope=scope)).key


def _preflight(origin: str, method: str = "PUT") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, if-none-match",
    }


async def test_an_allowed_origins_preflight_is_answered_without_a_key(cors_app: FastAPI) -> None:
    await _key(cors_app)  # keys exist: anything else without one is a 401
    async with _client(cors_app) as client:
        response = await client.options(f"/reports/{DAY}", headers=_preflight(FRONTEND))
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == FRONTEND
    allowed = response.headers["access-control-allow-methods"]
    assert {m.strip() for m in allowed.split(",")} >= {"GET", "POST", "PUT", "PATCH", "DELETE"}
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "x-api-key", "content-type", "if-none-match"):
        assert header in allowed_headers
    assert "idempotency-key" in allowed_headers
    assert "access-control-allow-credentials" not in response.headers


async def test_a_refused_origins_preflight_meets_the_key_check(cors_app: FastAPI) -> None:
    await _key(cors_app)
    async with _client(cors_app) as client:
        response = await client.options(f"/reports/{DAY}", headers=_preflight(STRANGER))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "access-control-allow-origin" not in response.headers


async def test_a_read_from_an_allowed_origin_exposes_etag_and_the_limits(
    cors_app: FastAPI, sample_markdown: str
) -> None:
    key = await _key(cors_app)
    auth = {"Authorization": f"Bearer {key}"}
    async with _client(cors_app) as client:
        put = await client.put(
            f"/reports/{DAY}",
            content=sample_markdown.encode(),
            headers={**auth, "Content-Type": "text/markdown"},
        )
        assert put.status_code == 200
        for _ in range(2):  # the route, then the fast path of a cached day
            response = await client.get(f"/reports/{DAY}", headers={**auth, "Origin": FRONTEND})
            assert response.status_code == 200
            assert response.headers["access-control-allow-origin"] == FRONTEND
            exposed = {
                h.strip().lower()
                for h in response.headers["access-control-expose-headers"].split(",")
            }
            assert {"etag", "location", "retry-after"} <= exposed
            assert response.headers["etag"]
            assert "origin" in response.headers["vary"].lower()
        # A refusal is readable too (the page can tell a 401 from a network failure).
        refused = await client.get(f"/reports/{DAY}", headers={"Origin": FRONTEND})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == FRONTEND
        stranger = await client.get(f"/reports/{DAY}", headers={**auth, "Origin": STRANGER})
        assert stranger.status_code == 200
        assert "access-control-allow-origin" not in stranger.headers


async def test_without_cors_origins_there_is_no_cors(app: FastAPI) -> None:
    await _key(app)
    async with _client(app) as client:
        preflight = await client.options(f"/reports/{DAY}", headers=_preflight(FRONTEND))
        assert preflight.status_code == 401
        assert "access-control-allow-origin" not in preflight.headers
        read = await client.get("/healthz", headers={"Origin": FRONTEND})
        assert "access-control-allow-origin" not in read.headers


async def test_in_open_mode_an_allowed_origin_may_write_and_others_may_not(
    cors_app: FastAPI,
) -> None:
    async with _client(cors_app) as client:
        allowed = await client.post("/iocs", json=IOCS, headers={"Origin": FRONTEND})
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == FRONTEND
        refused = await client.post("/iocs", json=IOCS, headers={"Origin": STRANGER})
        assert refused.status_code == 403
        preflight = await client.options("/iocs", headers=_preflight(STRANGER, "POST"))
        # As without CORS: no route answers OPTIONS (405), and nothing allows the origin.
        assert preflight.status_code == 405
        assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(
    "value", ["*", "https://*.example.org", "digest.example.org", "https://a.b/c"]
)
def test_a_wildcard_or_a_non_origin_is_a_settings_error(value: str) -> None:
    with pytest.raises(ValidationError, match="origin"):
        Settings(_env_file=None, cors_origins=value)  # type: ignore[call-arg]


def test_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECDIGEST_CORS_ORIGINS", "https://a.example.org, http://localhost:5173/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.cors_origins == ["https://a.example.org", "http://localhost:5173"]
