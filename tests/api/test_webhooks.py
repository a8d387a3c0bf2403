"""Webhooks: created with a secret, signed deliveries checked by the Standard Webhooks
reference verifier on a receiver on loopback, retries, timeouts, refusals, disabling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook as Verifier

from app.main import create_app
from app.models.types import utcnow
from app.settings import Settings
from app.state import AppState
from tests.support.databases import empty_all_tables
from tests.support.digests import import_day
from tests.support.receiver import Answer, Receiver, ReceiverServer

DAY = "2024-12-06"
PROBLEM = "application/problem+json"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with ReceiverServer() as running:
        yield running


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Retries in tenths of a second, a short timeout, the schedule looking often."""
    return settings.model_copy(
        update={
            "webhook_retry_delays": [0.1, 0.1, 0.1],
            "webhook_timeout": 0.5,
            "delivery_check_seconds": 0.05,
        }
    )


async def add_webhook(
    client: httpx.AsyncClient, url: str, events: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"url": url, "events": events or ["report.published"], **extra}
    response = await client.post("/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliveries(client: httpx.AsyncClient, webhook_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


async def settled(client: httpx.AsyncClient, webhook_id: int, within: float = 10) -> dict[str, Any]:
    """The webhook's newest delivery once it is no longer pending or sending."""
    for _ in range(int(within / 0.05)):
        found = await deliveries(client, webhook_id)
        if found and found[0]["status"] not in ("pending", "sending"):
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"still not settled: {found}")


def verified(secret: str, received: Any) -> dict[str, Any]:
    """The payload, once the reference verifier has accepted its signature."""
    payload: dict[str, Any] = Verifier(secret).verify(received.body, received.headers)
    return payload


async def test_a_webhook_is_created_with_its_secret_shown_once(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    response = await client.post(
        "/webhooks", json={"url": receiver.url("/hook"), "events": ["report.published"]}
    )

    assert response.status_code == 201
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert response.headers["location"] == f"/webhooks/{created['id']}"
    listed = (await client.get("/webhooks")).json()["webhooks"]
    assert [hook["id"] for hook in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in (await client.get(f"/webhooks/{created['id']}")).json()


async def test_a_publish_is_delivered_signed_and_idempotent(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await add_webhook(client, receiver.url("/hook"))
    await import_day(client, DAY, ("Story", ["evil-cdn[.]com"]))

    first = await client.post(f"/reports/{DAY}/publish")
    again = await client.post(f"/reports/{DAY}/publish")

    assert first.status_code == 201
    assert first.json()["number"] == 1
    assert first.json()["deliveries"] == 1
    assert again.status_code == 200
    assert again.json()["created"] is False
    (received,) = await receiver.wait_for("/hook", 1)
    payload = verified(hook["secret"], received)
    assert payload["type"] == "report.published"
    assert payload["data"]["date"] == DAY
    assert payload["data"]["publication"] == 1
    assert payload["data"]["item_count"] == 1
    assert (await settled(client, hook["id"]))["status"] == "succeeded"
    await asyncio.sleep(0.3)
    assert len(receiver.at("/hook")) == 1  # the unchanged day was not sent twice


async def test_a_day_curated_since_is_published_again_under_the_next_number(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await add_webhook(client, receiver.url("/hook"))
    await import_day(client, DAY, ("Story", []))
    await client.post(f"/reports/{DAY}/publish")
    link = {"kind": "link", "title": "Later news", "url": "https://news.example/later"}
    assert (await client.post(f"/reports/{DAY}/items", json=link)).status_code == 201

    second = await client.post(f"/reports/{DAY}/publish")

    assert second.status_code == 201
    assert second.json()["number"] == 2
    payloads = [verified(hook["secret"], r) for r in await receiver.wait_for("/hook", 2)]
    assert [p["data"]["publication"] for p in payloads] == [1, 2]


async def test_a_receiver_failing_twice_gets_the_same_message_three_times(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.script("/flaky", Answer(500), Answer(503))
    hook = await add_webhook(client, receiver.url("/flaky"))
    await import_day(client, DAY, ("Story", []))

    await client.post(f"/reports/{DAY}/publish")

    got = await receiver.wait_for("/flaky", 3)
    assert len({r.headers["webhook-id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    for received in got:  # each attempt signed anew, each valid
        verified(hook["secret"], received)
    delivery = await settled(client, hook["id"])
    assert delivery["status"] == "succeeded"
    assert delivery["id"] == got[0].headers["webhook-id"]
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["attempts"][0]["retry_at"] is not None


async def test_a_receiver_that_hangs_is_cut_at_the_timeout_and_tried_again(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.script("/slow", Answer(200, delay=3.0))
    hook = await add_webhook(client, receiver.url("/slow"))
    await import_day(client, DAY, ("Story", []))

    await client.post(f"/reports/{DAY}/publish")

    delivery = await settled(client, hook["id"])
    first = delivery["attempts"][0]
    assert first["status_code"] is None
    assert "did not answer" in first["error"]
    assert first["duration_ms"] < 2500
    assert delivery["status"] == "succeeded"  # the second attempt was answered at once


async def test_a_4xx_is_not_retried_but_a_429_is_after_its_retry_after(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.script("/gone", Answer(410))
    receiver.script("/busy", Answer(429, headers=(("Retry-After", "1"),)))
    gone = await add_webhook(client, receiver.url("/gone"))
    busy = await add_webhook(client, receiver.url("/busy"))
    await import_day(client, DAY, ("Story", []))

    await client.post(f"/reports/{DAY}/publish")

    refused = await settled(client, gone["id"])
    assert refused["status"] == "failed"
    assert [a["status_code"] for a in refused["attempts"]] == [410]
    later = await receiver.wait_for("/busy", 2)
    assert later[1].at - later[0].at >= 0.9
    assert (await settled(client, busy["id"]))["status"] == "succeeded"


async def test_a_webhook_failing_for_a_day_is_disabled_and_says_why(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.script("/down", *[Answer(502)] * 10)
    hook = await add_webhook(client, receiver.url("/down"))
    state: AppState = app.state.secdigest
    async with state.engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE webhooks SET failing_since = :since"),
            {"since": utcnow() - timedelta(days=1, minutes=1)},
        )
    await import_day(client, DAY, ("Story", []))

    await client.post(f"/reports/{DAY}/publish")

    delivery = await settled(client, hook["id"])
    assert delivery["status"] == "cancelled"
    shown = (await client.get(f"/webhooks/{hook['id']}")).json()
    assert shown["disabled_at"] is not None
    assert "502" in shown["disabled_reason"]
    test = await client.post(f"/webhooks/{hook['id']}/test")
    assert test.status_code == 422


async def test_an_item_added_by_a_user_is_announced(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await add_webhook(client, receiver.url("/items"), ["item.added"])
    link = {"kind": "link", "title": "A new story", "url": "https://news.example/new"}

    added = await client.post(f"/reports/{DAY}/items", json=link)

    (received,) = await receiver.wait_for("/items", 1)
    payload = verified(hook["secret"], received)
    assert payload["type"] == "item.added"
    assert payload["data"]["item_id"] == added.json()["id"]
    assert payload["data"]["title"] == "A new story"


async def test_a_test_message_reaches_the_webhook(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await add_webhook(client, receiver.url("/test"))

    sent = await client.post(f"/webhooks/{hook['id']}/test")

    assert sent.status_code == 202
    (received,) = await receiver.wait_for("/test", 1)
    assert verified(hook["secret"], received)["type"] == "webhook.test"
    assert received.headers["webhook-id"] == sent.json()["delivery_id"]


async def test_a_slack_webhook_gets_block_kit_messages(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    await add_webhook(client, receiver.url("/slack"), format="slack")
    await import_day(client, DAY, ("Story about evil", ["evil-cdn[.]com"]))

    await client.post(f"/reports/{DAY}/publish")

    (received,) = await receiver.wait_for("/slack", 1)
    message = orjson.loads(received.body)
    assert message["blocks"]
    assert "Story about evil" in received.body.decode()
    assert "evil-cdn.com" not in received.body.decode()  # defanged only


async def test_removing_a_webhook_stops_its_deliveries(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await add_webhook(client, receiver.url("/removed"))

    assert (await client.delete(f"/webhooks/{hook['id']}")).status_code == 204
    assert (await client.get(f"/webhooks/{hook['id']}")).status_code == 404
    await import_day(client, DAY, ("Story", []))
    assert (await client.post(f"/reports/{DAY}/publish")).json()["deliveries"] == 0


@pytest.fixture
async def guarded_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the fetch guard as shipped: no address allowed beyond the public."""
    application = create_app(settings.model_copy(update={"fetch_allow": []}))
    async with application.router.lifespan_context(application):
        await empty_all_tables(application.state.secdigest.engine)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            yield c


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("http://127.0.0.1:8111/hook", True),
        ("http://[::1]/hook", True),
        ("http://10.0.0.7/hook", True),
        # Cloud metadata is never an address to allow: no hint.
        ("http://169.254.169.254/latest/meta-data/", False),
        ("ftp://example.com/hook", False),
    ],
)
async def test_a_webhook_url_the_guard_refuses_is_a_400_saying_what_allows_it(
    guarded_client: httpx.AsyncClient, url: str, hint: bool
) -> None:
    response = await guarded_client.post(
        "/webhooks", json={"url": url, "events": ["report.published"]}
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"] == "/problems/fetch-blocked"
    assert ("SECDIGEST_FETCH_ALLOW" in response.json()["detail"]) is hint
    assert response.json()["detail"].count("SECDIGEST_FETCH_ALLOW") <= 1


async def test_bad_webhook_bodies_are_422s(client: httpx.AsyncClient) -> None:
    for body in (
        {"url": "https://hooks.example/x", "events": []},
        {"url": "https://hooks.example/x", "events": ["report.deleted"]},
        {"url": "https://hooks.example/x", "events": ["item.added"], "format": "teams"},
        {"events": ["item.added"]},
    ):
        assert (await client.post("/webhooks", json=body)).status_code == 422, body
