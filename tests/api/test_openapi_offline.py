"""The API documents itself offline: /docs and /redoc load nothing from outside, every error
answer of the description is a Problem, and every problem type has a page of its own."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db import session_scope
from app.errors import PROBLEM_JSON, PROBLEM_TYPES
from app.services import apikeys
from app.state import AppState

_REFERENCED = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
_OUTSIDE = re.compile(r"(?:https?:)?//[a-z0-9]", re.IGNORECASE)


@pytest.fixture
async def closed(app: FastAPI) -> FastAPI:
    """The app once a key exists: only the open paths answer without one."""
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        await apikeys.create_key(session, name="ci", scope="read")
    return app


def _remote(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://secdigest.test")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_load_every_asset_from_the_app_itself(closed: FastAPI, page: str) -> None:
    async with _remote(closed) as client:
        response = await client.get(page)
        assert response.status_code == 200
        html = response.text
        assert not _OUTSIDE.search(html), _OUTSIDE.findall(html)
        assets = _REFERENCED.findall(html)
        assert any(asset.endswith(".js") for asset in assets)
        for asset in assets:
            assert asset.startswith("/"), asset
            served = await client.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 0
        # And the description the page loads, without a key.
        assert (await client.get("/openapi.json")).status_code == 200


async def test_the_docs_assets_are_open_but_nothing_else_under_them(closed: FastAPI) -> None:
    async with _remote(closed) as client:
        assert (await client.get("/docs/assets/nothing.js")).status_code == 404
        escape = await client.get("/docs/assets/..%2F..%2Fsettings.py")
        assert escape.status_code == 404
        assert (await client.post("/docs/assets/swagger-ui.css")).status_code == 401
        assert (await client.get("/reports")).status_code == 401


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


async def test_every_error_answer_of_the_description_is_a_problem(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in str(schema)
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    assert problem["additionalProperties"] is True
    ref = {"$ref": "#/components/schemas/Problem"}
    checked = 0
    for path, method, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if status.isdigit() and int(status) >= 400:
                content = response["content"]
                if path.startswith("/taxii2") and status not in ("401", "403", "429"):
                    # TAXII answers its own error message (TAXII 2.1), typed as such.
                    [(media_type, body)] = content.items()
                    assert media_type.startswith("application/taxii+json"), (path, status)
                    assert body["schema"] == {"$ref": "#/components/schemas/TaxiiError"}
                    continue
                assert content == {PROBLEM_JSON: {"schema": ref}}, (path, method, status)
                checked += 1
            elif PROBLEM_JSON in response.get("content", {}):
                assert response["content"][PROBLEM_JSON]["schema"] == ref
    assert checked > 50
    day = schema["paths"]["/reports/{day}"]["get"]["responses"]
    assert day["406"]["content"] == {PROBLEM_JSON: {"schema": ref}}
    assert "406" in schema["paths"]["/summarize"]["post"]["responses"]


@pytest.mark.parametrize("error", PROBLEM_TYPES, ids=lambda error: error.slug)
async def test_every_problem_type_has_a_page_open_without_a_key(
    closed: FastAPI, error: type[Exception]
) -> None:
    slug, title, status = error.slug, error.title, error.status_code  # type: ignore[attr-defined]
    async with _remote(closed) as client:
        response = await client.get(f"/problems/{slug}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert title in page
    assert str(status) in page
    assert f"/problems/{slug}" in page
    assert "<script" not in page


async def test_a_problem_answers_type_names_a_page(closed: FastAPI) -> None:
    async with _remote(closed) as client:
        problem = (await client.get("/reports")).json()
        assert problem["type"] == "/problems/unauthorized"
        page = await client.get(problem["type"])
        assert page.status_code == 200
        assert "401" in page.text
        unknown = await client.get("/problems/no-such-thing")
        assert unknown.status_code == 404
        assert unknown.json()["type"] == "/problems/not-found"


async def test_the_report_json_says_its_iocs_have_no_source_position(
    client: httpx.AsyncClient,
) -> None:
    text = "The loader beaconed to hxxps://evil-updates[.]example[.]com/gate every hour. " * 4
    article = await client.post(
        "/summarize", json={"text": text, "title": "Loader", "date": "2024-12-06"}
    )
    assert article.status_code == 200, article.text
    [found] = [i for i in article.json()["iocs"] if i["type"] == "url"]
    assert found["raw"]
    assert found["was_defanged"] is True
    assert isinstance(found["offset"], int)

    day = (await client.get("/reports/2024-12-06")).json()
    iocs = [ioc for s in day["sections"] for item in s["items"] for ioc in item["iocs"]]
    assert iocs
    assert all(i["raw"] is None and i["was_defanged"] is None for i in iocs)
    assert all(i["offset"] is None for i in iocs)

    schema = (await client.get("/openapi.json")).json()
    fields = schema["components"]["schemas"]["ReportIocRead"]["properties"]
    for name in ("raw", "was_defanged", "offset"):
        assert fields[name]["type"] == "null"
        assert "Always null in a report" in fields[name]["description"]
