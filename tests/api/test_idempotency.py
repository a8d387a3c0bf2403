"""Idempotency-Key on POSTs: the same request replays the first answer, another is a 422."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.site import FixtureSite

ENGLISH = "/news/english-news.html"


async def test_same_key_and_body_replays_the_first_answer_without_new_work(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    body = {"url": site.url(ENGLISH), "force": True}
    headers = {"Idempotency-Key": "soar-run-1"}
    first = await client.post("/summarize", json=body, headers=headers)
    fetched = site.hits[ENGLISH]

    again = await client.post("/summarize", json=body, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert site.hits[ENGLISH] == fetched  # force=True, yet nothing was fetched again


async def test_same_key_with_another_body_is_an_invalid_request(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    headers = {"Idempotency-Key": "soar-run-2"}
    await client.post("/summarize", json={"url": site.url(ENGLISH)}, headers=headers)

    other = await client.post(
        "/summarize", json={"url": site.url("/jp/sjis.html")}, headers=headers
    )

    assert other.status_code == 422
    assert other.json()["type"] == "/problems/invalid-request"
    assert "Idempotency-Key" in other.json()["detail"]


async def test_an_async_request_replays_the_same_job(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    headers = {"Idempotency-Key": "soar-run-3", "Prefer": "respond-async"}
    first = await client.post("/summarize", json={"url": site.url(ENGLISH)}, headers=headers)
    again = await client.post("/summarize", json={"url": site.url(ENGLISH)}, headers=headers)

    assert first.status_code == again.status_code == 202
    assert again.headers["location"] == first.headers["location"]
    assert again.json()["id"] == first.json()["id"]


async def test_a_concurrent_duplicate_is_told_to_retry(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    headers = {"Idempotency-Key": "soar-run-4"}
    body = {"url": site.url("/news/slow.html")}

    first, second = await asyncio.gather(
        client.post("/summarize", json=body, headers=headers),
        client.post("/summarize", json=body, headers=headers),
    )

    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409]
    conflict = first if first.status_code == 409 else second
    assert conflict.json()["type"] == "/problems/conflict"
    assert conflict.headers["retry-after"] == "1"


async def test_a_failure_on_the_sites_side_is_not_kept_so_it_can_be_retried(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    headers = {"Idempotency-Key": "soar-run-5"}
    body = {"url": site.url("/missing")}
    await client.post("/summarize", json=body, headers=headers)
    misses = site.hits["/missing"]

    again = await client.post("/summarize", json=body, headers=headers)

    assert again.status_code == 502
    assert "idempotent-replayed" not in again.headers
    assert site.hits["/missing"] == misses + 1


async def test_without_a_key_nothing_is_replayed(client: httpx.AsyncClient) -> None:
    text = {"text": "A loader beacons to 45.137.21[.]9 every hour. " * 4}
    first = await client.post("/iocs", json=text)
    again = await client.post("/iocs", json=text)
    assert "idempotent-replayed" not in again.headers
    assert first.json() == again.json()
