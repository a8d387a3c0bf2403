"""The API with a model configured: one call per article, none on re-submission, and the
offline entry (degraded) when the model fails. The real openai client talks to a
scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from app.state import AppState
from tests.support.databases import empty_all_tables
from tests.support.model_server import ModelServer, status
from tests.support.site import FixtureSite

ENGLISH = "/news/english-news.html"


@pytest.fixture
async def llm_client(database_url: str, model: ModelServer) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the LLM engine pointed at the model server."""
    from tests.conftest import llm_settings

    settings = llm_settings(
        model, database_url=database_url, fetch_allow=["127.0.0.1"], llm_timeout=5.0
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        state: AppState = application.state.secdigest
        await empty_all_tables(state.engine)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client


async def test_one_model_call_per_article_and_none_when_it_comes_again(
    llm_client: httpx.AsyncClient, model: ModelServer, site: FixtureSite
) -> None:
    first = (await llm_client.post("/summarize", json={"url": site.url(ENGLISH)})).json()

    assert model.calls == 1
    assert first["engine"] == "llm"
    assert first["model"] == "test-model"
    assert first["prompt_version"]
    assert first["usage"]["total_tokens"] == 200
    assert first["section"] == "malware_campaign"
    assert first["model_recommendations"] == [
        "Teach users that browsers never update from a web page."
    ]
    # The indicators are the regex engine's, whatever the model says.
    assert ("ipv4", "45.137.21.9") in {(i["type"], i["value"]) for i in first["iocs"]}

    again = (await llm_client.post("/summarize", json={"url": site.url(ENGLISH)})).json()
    via_redirect = (await llm_client.post("/summarize", json={"url": site.url("/moved")})).json()

    assert again["cached"] is True
    assert via_redirect["summary_reused"] is True  # same text under another URL
    # The redirect led to a stored article: that article answers, no summary of its own.
    assert via_redirect["id"] == first["id"]
    assert via_redirect["cached"] is False  # it was fetched to find that out
    assert model.calls == 1


async def test_another_language_is_another_summary(
    llm_client: httpx.AsyncClient, model: ModelServer, site: FixtureSite
) -> None:
    await llm_client.post("/summarize", json={"url": site.url(ENGLISH), "lang": "ja"})
    english = (
        await llm_client.post("/summarize", json={"url": site.url(ENGLISH), "lang": "en"})
    ).json()

    assert model.calls == 2
    assert english["summary_lang"] == "en"
    assert "English" in model.prompt_text()


async def test_a_model_that_is_down_gives_the_offline_entry_marked_degraded(
    llm_client: httpx.AsyncClient, model: ModelServer, site: FixtureSite
) -> None:
    model.default = status(503)

    response = await llm_client.post("/summarize", json={"url": site.url(ENGLISH)})

    assert response.status_code == 200
    article = response.json()
    assert article["degraded"] is True
    assert article["degraded_reason"] == "model error 503"
    assert article["engine"] == "offline"
    assert 3 <= len(article["summary"]) <= 6
    assert article["model_recommendations"] == []


async def test_the_markdown_entry_carries_the_models_own_recommendations(
    llm_client: httpx.AsyncClient, site: FixtureSite
) -> None:
    block = (await llm_client.post("/summarize?format=md", json={"url": site.url(ENGLISH)})).text

    assert block.startswith("#### Fake browser updates push the SpiderPouch loader\n")
    assert (
        "- ChatGPTの推奨事項\n    - Teach users that browsers never update from a web page.\n"
        in block
    )
    assert "    - 45.137.21[.]9\n" in block


async def test_an_async_job_uses_the_model_too(
    llm_client: httpx.AsyncClient, model: ModelServer, site: FixtureSite
) -> None:
    accepted = await llm_client.post(
        "/summarize", json={"url": site.url(ENGLISH)}, headers={"Prefer": "respond-async"}
    )
    done = (await llm_client.get(f"{accepted.headers['location']}?wait=20")).json()

    assert done["status"] == "succeeded"
    assert done["result"]["engine"] == "llm"
    assert model.calls == 1
