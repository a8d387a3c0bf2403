"""Refusals that say how to get past them, on a service that allows no private address."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings without their loopback exception: the service as installed."""
    return settings.model_copy(update={"fetch_allow": []})


async def test_a_refused_name_is_named_in_the_hint_not_its_address(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post("/summarize", json={"url": "http://localhost/news"})

    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "/problems/fetch-blocked"
    assert problem["detail"] == (
        "localhost is not a public address; to allow it: SECDIGEST_FETCH_ALLOW=localhost:80"
    )
    assert problem["allow"] == "localhost:80"
    # The address it resolved to goes to the log only.
    assert "127.0.0.1" not in response.text
    assert "::1" not in response.text
    blocked = [r.getMessage() for r in caplog.records if "fetch.blocked" in r.getMessage()]
    assert blocked
    assert "address=" in blocked[0]


async def test_a_port_refusal_says_which_setting_allows_it(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post("/summarize", json={"url": "http://93.184.215.14:8111/a"})

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail == (
        "93.184.215.14 is asked on port 8111, which the service does not fetch from; "
        "to allow it: SECDIGEST_FETCH_ALLOW=93.184.215.14:8111"
    )
    # Refused before any lookup: the log line names no address rather than "None".
    assert "address=None" not in caplog.text


async def test_a_feed_on_loopback_is_refused_with_the_hint_at_once(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/feeds", json={"url": "http://127.0.0.1:8111/feed.xml"})

    assert response.status_code == 400
    assert "SECDIGEST_FETCH_ALLOW=127.0.0.1:8111" in response.json()["detail"]
