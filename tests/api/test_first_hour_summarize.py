"""POST /summarize in a user's first hour: short text, store false, a feed, URLs as typed."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import session_scope
from app.models import Article, Report, ReportItem, Summary
from tests.support.site import FixtureSite

ENGLISH = "/news/english-news.html"
# The README's example, byte for byte.
README_TEXT = {"text": "The loader calls hxxps://evil[.]com/gate ...", "title": "New loader"}


async def _rows(app: FastAPI) -> dict[str, int]:
    async with session_scope(app.state.secdigest.sessionmaker) as session:
        return {
            model.__name__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Article, Summary, Report, ReportItem)
        }


async def test_the_readme_text_example_is_summarized_with_its_indicator(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/summarize", json=README_TEXT)

    assert response.status_code == 200, response.text
    article = response.json()
    assert article["original_title"] == "New loader"
    assert ("url", "https://evil.com/gate") in {(i["type"], i["value"]) for i in article["iocs"]}
    assert article["report"] is not None


async def test_a_text_of_only_spaces_is_not_an_article(client: httpx.AsyncClient) -> None:
    response = await client.post("/summarize", json={"text": "  \n\t "})

    assert response.status_code == 422
    assert response.json()["type"] == "/problems/not-an-article"


async def test_a_short_fetched_page_is_still_not_an_article(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url("/empty.html")})

    assert response.status_code == 422
    assert response.json()["detail"] == "no article text found in the page"


async def test_store_false_answers_the_entry_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, site: FixtureSite
) -> None:
    body = {"url": site.url(ENGLISH), "store": False, "date": "2024-12-06"}
    response = await client.post("/summarize", json=body)

    assert response.status_code == 200, response.text
    article = response.json()
    assert article["id"] is None
    assert article["report"] is None
    assert article["cached"] is False
    assert ("ipv4", "45.137.21.9") in {(i["type"], i["value"]) for i in article["iocs"]}
    assert article["summary"]
    assert await _rows(app) == {"Article": 0, "Summary": 0, "Report": 0, "ReportItem": 0}
    assert (await client.get("/reports/2024-12-06")).status_code == 404

    stored = await client.post("/summarize", json={"url": site.url(ENGLISH)})
    assert stored.json()["cached"] is False  # the preview left nothing to be found


async def test_store_false_text_and_markdown_write_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    text = await client.post("/summarize", json={**README_TEXT, "store": False})
    markdown = await client.post(
        "/summarize", json={**README_TEXT, "store": False}, headers={"Accept": "text/markdown"}
    )

    assert text.status_code == 200, text.text
    assert text.json()["report"] is None
    assert markdown.status_code == 200, markdown.text
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "evil[.]com" in markdown.text
    assert await _rows(app) == {"Article": 0, "Summary": 0, "Report": 0, "ReportItem": 0}


async def test_a_preview_in_a_link_section_is_the_link_line_a_stored_entry_is(
    app: FastAPI, client: httpx.AsyncClient, site: FixtureSite
) -> None:
    body = {"url": site.url(ENGLISH), "section": "japan_incidents", "date": "2024-12-06"}
    markdown = {"Accept": "text/markdown"}

    preview = await client.post("/summarize", json={**body, "store": False}, headers=markdown)
    stored = await client.post("/summarize", json=body, headers=markdown)
    day = await client.get("/reports/2024-12-06?format=md")

    assert preview.status_code == 200, preview.text
    assert preview.text == stored.text  # the answer is the whole entry, preview or not
    # What the stored entry is in the day: the digest's incident list, one link line.
    assert (
        f"- [Ember Lynx Targets Logistics Firms With Fake Update Lures]({site.url(ENGLISH)})"
        in (day.text)
    )


async def test_store_false_batches_answer_each_url_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient, site: FixtureSite
) -> None:
    body = {"urls": [site.url(ENGLISH), site.url("/missing")], "store": False}
    response = await client.post("/summarize", json=body)

    assert response.status_code == 200, response.text
    first, failed = response.json()
    assert first["id"] is None
    assert first["report"] is None
    assert failed["problem"]["type"] == "/problems/fetch-failed"
    assert await _rows(app) == {"Article": 0, "Summary": 0, "Report": 0, "ReportItem": 0}


async def test_store_false_is_never_a_job(app: FastAPI, client: httpx.AsyncClient) -> None:
    refused = await client.post("/summarize?async=true", json={**README_TEXT, "store": False})
    # Prefer is a preference: the answer comes directly, without Preference-Applied.
    direct = await client.post(
        "/summarize",
        json={**README_TEXT, "store": False},
        headers={"Prefer": "respond-async"},
    )

    assert refused.status_code == 422
    assert refused.json()["type"] == "/problems/invalid-request"
    assert "async" in refused.json()["detail"]
    assert direct.status_code == 200
    assert "preference-applied" not in direct.headers
    assert direct.json()["report"] is None
    assert await _rows(app) == {"Article": 0, "Summary": 0, "Report": 0, "ReportItem": 0}


async def test_a_feed_sent_to_summarize_says_to_subscribe(
    app: FastAPI, client: httpx.AsyncClient, site: FixtureSite
) -> None:
    for path in ("/feeds/news.rss", "/feeds/research.atom", "/feeds/jp-incidents.rdf"):
        response = await client.post("/summarize", json={"url": site.url(path)})

        assert response.status_code == 422, (path, response.text)
        problem = response.json()
        assert problem["type"] == "/problems/not-an-article"
        assert problem["detail"] == "this is a feed: subscribe with POST /feeds"
        assert problem["feed_url"] == site.url(path)
    assert (await _rows(app))["Article"] == 0


async def test_a_refused_private_address_says_which_setting_allows_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/summarize", json={"url": "http://10.0.0.1:8111/news"})

    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "/problems/fetch-blocked"
    assert problem["detail"].endswith("; to allow it: SECDIGEST_FETCH_ALLOW=10.0.0.1:8111")


async def test_a_redirect_to_cloud_metadata_is_refused_without_a_hint(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url("/redirect-to-metadata")})

    assert response.status_code == 400
    problem = response.json()
    assert problem["detail"] == "169.254.169.254 is not a public address"
    assert "allow" not in problem


async def test_a_url_without_scheme_is_read_as_https(client: httpx.AsyncClient) -> None:
    # Refused as a private address, on https's port: the URL was read as https://.
    response = await client.post("/summarize", json={"url": "10.0.0.1/news"})

    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "/problems/fetch-blocked"
    assert "SECDIGEST_FETCH_ALLOW=10.0.0.1:443" in problem["detail"]


async def test_a_batch_url_without_scheme_is_read_as_https(client: httpx.AsyncClient) -> None:
    response = await client.post("/summarize", json={"urls": ["10.0.0.1/a", "not a url"]})

    assert response.status_code == 200
    blocked, invalid = response.json()
    assert "10.0.0.1:443" in blocked["problem"]["detail"]
    assert invalid["problem"]["type"] == "/problems/invalid-request"


async def test_what_is_no_url_at_all_is_a_422_with_an_example(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/summarize", json={"url": "the new loader"})

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "/problems/invalid-request"
    assert "https://www.example.com/news" in problem["detail"]


async def test_a_curated_url_without_scheme_is_read_as_https(client: httpx.AsyncClient) -> None:
    response = await client.post("/reports/2024-12-06/items", json={"url": "10.0.0.1/news"})

    assert response.status_code == 400
    assert "SECDIGEST_FETCH_ALLOW=10.0.0.1:443" in response.json()["detail"]
