"""Liveness and readiness."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.main import create_app
from app.settings import Settings


async def test_healthz_and_readyz_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_readyz_fails_on_a_database_without_migrations(tmp_path: Path) -> None:
    app = create_app(Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'fresh.db'}"))  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/not-ready"
    assert "migration None" in response.json()["detail"]


async def test_readyz_fails_while_the_database_is_unreachable() -> None:
    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    app = create_app(Settings(_env_file=None, database_url=unreachable))  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            response = await client.get("/readyz")
            alive = await client.get("/healthz")
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]
    # The probe is open to anyone: no driver exception class in the answer.
    assert "Error" not in response.json()["detail"]
    assert alive.status_code == 200


async def test_openapi_documents_the_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/summarize", "/reports", "/reports/{day}", "/iocs", "/healthz", "/readyz"} <= set(
        spec["paths"]
    )
    assert "text/markdown" in spec["paths"]["/reports/{day}"]["put"]["requestBody"]["content"]


async def test_metrics_count_summaries_by_engine(client: httpx.AsyncClient) -> None:
    def summaries(text: str) -> float:
        for line in text.splitlines():
            if line.startswith('secdigest_summaries_total{degraded="false",engine="offline"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = summaries((await client.get("/metrics")).text)
    body = {"text": "A new loader spreads through fake updates and calls 45.137.21[.]9. " * 3}
    await client.post("/summarize", json=body)
    after = (await client.get("/metrics")).text

    assert summaries(after) == before + 1
    assert "secdigest_grounding_dropped_total" in after
