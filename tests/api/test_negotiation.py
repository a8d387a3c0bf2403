"""Content negotiation: an Accept or a `?format=` the route has no answer for is a 406
(not-acceptable) naming the formats, never JSON in silence; `*/*`, `application/*` and no
Accept still mean JSON. The fast path of cached days answers alike."""

from __future__ import annotations

import httpx
import pytest

DAY = "2024-12-06"
MD = {"Content-Type": "text/markdown"}
TEXT = (
    "A stealer campaign used the domain evil-updates.example.com and the address "
    "203.0.113.7 to steal credentials from developers. " * 3
)


async def _import(client: httpx.AsyncClient, markdown: str) -> None:
    response = await client.put(f"/reports/{DAY}", content=markdown.encode(), headers=MD)
    assert response.status_code == 200, response.text


def _assert_406(response: httpx.Response, *named: str) -> None:
    assert response.status_code == 406, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "/problems/not-acceptable"
    for name in named:
        assert name in problem["detail"]


@pytest.mark.parametrize("accept", ["application/xml", "image/png", "text/plain"])
async def test_a_day_refuses_an_accept_it_has_no_answer_for(
    client: httpx.AsyncClient, sample_markdown: str, accept: str
) -> None:
    await _import(client, sample_markdown)
    for _ in range(2):  # a miss (the route), then with the day cached (the fast path)
        assert (await client.get(f"/reports/{DAY}")).status_code == 200
        response = await client.get(f"/reports/{DAY}", headers={"Accept": accept})
        _assert_406(response, "application/json", "text/markdown", "text/csv", "misp")
        assert response.json()["formats"] == ["json", "md", "html", "stix", "misp", "csv"]


async def test_a_day_refuses_an_unknown_format(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    response = await client.get(f"/reports/{DAY}", params={"format": "xml"})
    _assert_406(response, "format=xml", "json|md|html|stix|misp|csv")


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/*", "application/json", "application/xml, */*;q=0.1", ""],
)
async def test_a_day_is_json_for_any_accept_that_admits_json(
    client: httpx.AsyncClient, sample_markdown: str, accept: str | None
) -> None:
    await _import(client, sample_markdown)
    headers = {"Accept": accept} if accept is not None else {}
    for _ in range(2):  # the route, then the fast path
        response = await client.get(f"/reports/{DAY}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"


async def test_a_day_is_markdown_for_text_star(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    response = await client.get(f"/reports/{DAY}", headers={"Accept": "text/*"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")


async def test_a_refused_day_is_refused_before_it_is_looked_up(
    client: httpx.AsyncClient,
) -> None:
    # No report that day: the Accept is judged first, as the fast path judges it.
    response = await client.get("/reports/2001-01-01", headers={"Accept": "image/png"})
    _assert_406(response)


@pytest.mark.parametrize("accept", ["application/xml", "image/png", "text/html"])
async def test_summarize_refuses_an_accept_other_than_json_or_markdown(
    client: httpx.AsyncClient, accept: str
) -> None:
    response = await client.post(
        "/summarize", json={"text": TEXT, "title": "Stealer"}, headers={"Accept": accept}
    )
    _assert_406(response, "application/json", "text/markdown")


async def test_summarize_refuses_an_unknown_format(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/summarize", params={"format": "html"}, json={"text": TEXT, "title": "Stealer"}
    )
    _assert_406(response, "format=html", "json|md")


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("text/markdown", "text/markdown"),
        ("text/*", "text/markdown"),
    ],
)
async def test_summarize_answers_what_accept_admits(
    client: httpx.AsyncClient, accept: str, media_type: str
) -> None:
    response = await client.post(
        "/summarize", json={"text": TEXT, "title": "Stealer"}, headers={"Accept": accept}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
