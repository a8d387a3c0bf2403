"""Bad input answers a problem+json 4xx/5xx, and the service keeps serving."""

from __future__ import annotations

import re
import socket

import httpx
import pytest

from tests.support.site import FixtureSite

PROBLEM = "application/problem+json"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    return body


async def test_unreachable_host_is_fetch_failed(client: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/article"
    await _problem(await client.post("/summarize", json={"url": url}), 502, "fetch-failed")


async def test_a_fetch_failure_says_what_happened_in_words_not_which_exception(
    client: httpx.AsyncClient,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/article"
    response = await client.post("/summarize", json={"url": url})

    detail = str((await _problem(response, 502, "fetch-failed"))["detail"])
    assert "the connection was refused" in detail
    assert not re.search(r"\b[A-Z][a-z]+[A-Z]\w*(Error|Exception)\b", detail), detail


async def test_page_answering_404_is_fetch_failed(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url("/missing")})
    body = await _problem(response, 502, "fetch-failed")
    assert body["upstream_status"] == 404


async def test_non_html_is_not_an_article(client: httpx.AsyncClient, site: FixtureSite) -> None:
    response = await client.post("/summarize", json={"url": site.url("/image.png")})
    await _problem(response, 422, "not-an-article")


async def test_page_without_text_is_not_an_article(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url("/empty.html")})
    await _problem(response, 422, "not-an-article")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "http://user:secret@example.com/",
    ],
)
async def test_private_and_odd_urls_are_blocked(client: httpx.AsyncClient, url: str) -> None:
    await _problem(await client.post("/summarize", json={"url": url}), 400, "fetch-blocked")


async def test_redirect_to_a_metadata_address_is_blocked(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url("/redirect-to-metadata")})
    await _problem(response, 400, "fetch-blocked")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "https://a.example/", "text": "x", "html": "<p>y</p>"},
        {"url": "https://a.example/", "surprise": True},
        {"urls": []},
        {"url": "https://a.example/", "lang": "fr"},
        {"url": "https://a.example/", "date": "yesterday"},
    ],
)
async def test_invalid_bodies_are_invalid_request(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/summarize", json=body)
    problem = await _problem(response, 422, "invalid-request")
    assert isinstance(problem["errors"], list)


async def test_malformed_json_is_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/summarize", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    await _problem(response, 422, "invalid-request")


async def test_unknown_path_and_wrong_method_are_problems(client: httpx.AsyncClient) -> None:
    await _problem(await client.get("/nope"), 404, "not-found")
    await _problem(await client.delete("/summarize"), 405, "method-not-allowed")


async def test_service_keeps_serving_after_bad_input(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    for url in ("http://10.0.0.1/", site.url("/missing"), site.url("/image.png")):
        assert (await client.post("/summarize", json={"url": url})).status_code >= 400

    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ok = await client.post("/summarize", json={"url": site.url("/news/english-news.html")})
    assert ok.status_code == 200
