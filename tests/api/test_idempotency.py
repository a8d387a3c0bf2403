"""Idempotency-Key on POSTs: the same request replays the first answer, another is a 422."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from app.db import session_scope
from app.services import apikeys
from app.state import AppState
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


# ---------------------------------------------------------------------------- per caller

STORY = {
    "text": "A new stealer spreads through cracked software and exfiltrates to 91.92.241[.]10. " * 2
}
ASYNC = {"Prefer": "respond-async"}  # each answer names a job of its own: whose it is shows


async def _write_key(app: FastAPI, name: str) -> dict[str, str]:
    """The headers of a new write key (the API is closed to requests without a key then)."""
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        key = (await apikeys.create_key(session, name=name, scope="write")).key
    return {"Authorization": f"Bearer {key}"}


async def test_another_api_key_with_the_same_idempotency_key_gets_its_own_answer(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    a, b = await _write_key(app, "soar-a"), await _write_key(app, "soar-b")
    shared = {"Idempotency-Key": "run-1", **ASYNC}
    first = await client.post("/summarize", json=STORY, headers={**a, **shared})

    other = await client.post("/summarize", json=STORY, headers={**b, **shared})
    other_again = await client.post("/summarize", json=STORY, headers={**b, **shared})

    assert first.status_code == other.status_code == 202
    assert "idempotent-replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]  # a job of its own, not A's
    assert other_again.headers["idempotent-replayed"] == "true"  # B's key replays B's answer
    assert other_again.json()["id"] == other.json()["id"]


async def test_another_api_key_may_send_another_request_under_the_same_idempotency_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    a, b = await _write_key(app, "soar-a"), await _write_key(app, "soar-b")
    shared = {"Idempotency-Key": "run-2"}
    await client.post("/iocs", json={"text": "beacon to 45.137.21[.]9"}, headers={**a, **shared})

    other = await client.post(
        "/iocs", json={"text": "beacon to 8.8.4[.]4"}, headers={**b, **shared}
    )

    # Not a 422 telling B that somebody used this key: B never saw A's.
    assert other.status_code == 200, other.text
    assert "idempotent-replayed" not in other.headers
    assert [ioc["value"] for ioc in other.json()["iocs"]] == ["8.8.4.4"]


async def test_an_api_key_does_not_get_the_answer_kept_for_the_anonymous_caller(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shared = {"Idempotency-Key": "run-3", **ASYNC}
    anonymous = await client.post("/summarize", json=STORY, headers=shared)  # no key yet
    key = await _write_key(app, "soar")

    keyed = await client.post("/summarize", json=STORY, headers={**key, **shared})

    assert anonymous.status_code == keyed.status_code == 202
    assert "idempotent-replayed" not in keyed.headers
    assert keyed.json()["id"] != anonymous.json()["id"]


async def test_the_anonymous_caller_does_not_get_an_answer_kept_for_a_revoked_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    key = await _write_key(app, "soar")
    shared = {"Idempotency-Key": "run-4", **ASYNC}
    keyed = await client.post("/summarize", json=STORY, headers={**key, **shared})
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        await apikeys.revoke_key(session, name="soar")  # open to this machine again

    anonymous = await client.post("/summarize", json=STORY, headers=shared)

    assert anonymous.status_code == keyed.status_code == 202
    assert "idempotent-replayed" not in anonymous.headers
    assert anonymous.json()["id"] != keyed.json()["id"]
