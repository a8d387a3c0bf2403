"""Feeds in a user's first hour: checked when added, URLs as typed, failures retried sooner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.support.site import FixtureSite

NEWS = "/feeds/news.rss"


def _seconds_ahead(feed: dict[str, Any]) -> float:
    due = datetime.fromisoformat(feed["next_pull_at"])
    return (due - datetime.now(UTC)).total_seconds()


async def _feed(client: httpx.AsyncClient, feed_id: int) -> dict[str, Any]:
    response = await client.get("/feeds")
    (found,) = [f for f in response.json()["feeds"] if f["id"] == feed_id]
    return dict(found)


async def _pull(client: httpx.AsyncClient, feed_id: int) -> dict[str, Any]:
    body = {"ids": [feed_id], "force": True}
    response = await client.post("/feeds/pull?wait=60", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_page_that_is_no_feed_is_refused_when_added(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/feeds", json={"url": site.url("/feeds/not-a-feed")})

    assert response.status_code == 422
    assert response.json()["type"] == "/problems/not-a-feed"
    assert (await client.get("/feeds")).json()["feeds"] == []


async def test_an_unreachable_feed_is_refused_unless_the_check_is_skipped(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    url = site.url("/feeds/nowhere.rss")

    checked = await client.post("/feeds", json={"url": url})
    unchecked = await client.post("/feeds?check=false", json={"url": url})

    assert checked.status_code == 502
    assert checked.json()["type"] == "/problems/fetch-failed"
    assert unchecked.status_code == 201
    assert unchecked.json()["pull_failures"] == 0


async def test_a_checked_feed_keeps_its_title_and_its_first_pull_takes_every_item(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    fetched = site.hits[NEWS]
    response = await client.post("/feeds", json={"url": site.url(NEWS)})

    assert response.status_code == 201, response.text
    feed = response.json()
    assert feed["title"]
    assert feed["etag"] is None  # the check keeps no validator: the pull is not a 304
    assert site.hits[NEWS] == fetched + 1
    tally = await _pull(client, feed["id"])
    assert tally["new"] == 3


async def test_a_feed_url_without_scheme_is_read_as_https(client: httpx.AsyncClient) -> None:
    added = await client.post("/feeds?check=false", json={"url": "feeds.example.org/rss"})
    not_a_url = await client.post("/feeds?check=false", json={"url": "security news"})

    assert added.status_code == 201, added.text
    assert added.json()["url"] == "https://feeds.example.org/rss"
    assert not_a_url.status_code == 422
    assert not_a_url.json()["type"] == "/problems/invalid-request"
    assert "https://www.example.com/news" in not_a_url.json()["detail"]


async def test_a_failed_pull_is_tried_again_sooner_backing_off_to_the_interval(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    path = "/feeds/first-hour-flaky.rss"
    body = {"url": site.url(path), "interval": 600}
    feed_id = (await client.post("/feeds?check=false", json=body)).json()["id"]
    try:
        seen = []
        for _ in range(5):
            assert (await _pull(client, feed_id))["failures"] == 1
            feed = await _feed(client, feed_id)
            seen.append((feed["pull_failures"], round(_seconds_ahead(feed) / 10) * 10))
        # 60 s after one failure, then doubling, never past the interval (600 s).
        assert seen == [(1, 60), (2, 120), (3, 240), (4, 480), (5, 600)]

        site.routes[path] = site.routes[NEWS]
        assert (await _pull(client, feed_id))["failures"] == 0
        feed = await _feed(client, feed_id)
        assert feed["pull_failures"] == 0
        assert feed["last_error"] is None
        assert round(_seconds_ahead(feed) / 10) * 10 == 600
    finally:
        site.routes.pop(path, None)


async def test_a_feed_pull_that_failed_is_a_failed_job_with_its_problem(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    feed = await client.post("/feeds?check=false", json={"url": site.url("/feeds/gone.rss")})

    accepted = await client.post("/feeds/pull", json={"ids": [feed.json()["id"]]})

    (started,) = accepted.json()["pulls"]
    job = (await client.get(f"{started['location']}?wait=20")).json()
    assert job["status"] == "failed"
    assert job["problem"]["type"] == "/problems/fetch-failed"
    assert job["result"]["status"] == "failed"


async def test_a_feed_pull_that_worked_is_still_a_succeeded_job(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    feed = await client.post("/feeds", json={"url": site.url(NEWS)})

    accepted = await client.post("/feeds/pull", json={"ids": [feed.json()["id"]]})

    (started,) = accepted.json()["pulls"]
    job = (await client.get(f"{started['location']}?wait=20")).json()
    assert job["status"] == "succeeded"
    assert job["problem"] is None
