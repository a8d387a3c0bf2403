"""Feeds over the API: subscribe, pull (as jobs), sections, conditional GET, hostile feeds."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import session_scope
from app.models import Job
from app.services import feeds
from app.services.reports.sections import Section
from tests.api.test_dedupe import _page as article_page
from tests.support.site import FEEDS_DIR as FEEDS
from tests.support.site import FixtureSite, Route, SiteServer

NEWS = "/feeds/news.rss"
ARTICLES = {
    "/feed-articles/windows-zero-day.html",
    "/feed-articles/hospital-ransomware.html",
    "/feed-articles/phishing-kit.html",
}


async def subscribe(
    client: httpx.AsyncClient, url: str, *, check: bool = True, **fields: Any
) -> dict[str, Any]:
    # check=False subscribes without reading the feed first (one that fails on purpose).
    path = "/feeds" if check else "/feeds?check=false"
    response = await client.post(path, json={"url": url, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def pull(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/feeds/pull?wait=60", json=body or None)
    assert response.status_code == 200, response.text
    return response.json()


async def report_of(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/reports/today")).json()


def items_of(report: dict[str, Any], section: str) -> list[dict[str, Any]]:
    (found,) = [s for s in report["sections"] if s["key"] == section]
    return list(found["items"])


async def test_subscribe_list_get_and_remove(client: httpx.AsyncClient, site: FixtureSite) -> None:
    created = await subscribe(
        client, site.url(NEWS), section="daily_news", keywords=["zero-day"], interval=900
    )

    assert created["url"] == site.url(NEWS)
    assert (created["section"], created["keywords"], created["interval"]) == (
        "daily_news",
        ["zero-day"],
        900,
    )
    listed = (await client.get("/feeds")).json()["feeds"]
    assert [f["id"] for f in listed] == [created["id"]]
    assert (await client.get(f"/feeds/{created['id']}")).json()["url"] == site.url(NEWS)
    assert (await client.delete(f"/feeds/{created['id']}")).status_code == 204
    gone = await client.get(f"/feeds/{created['id']}")
    assert gone.status_code == 404
    assert gone.json()["type"] == "/problems/not-found"


async def test_the_same_feed_twice_is_a_conflict(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    first = await subscribe(client, site.url(NEWS))

    again = await client.post("/feeds", json={"url": site.url(NEWS) + "#top"})

    assert again.status_code == 409
    assert again.json()["feed_id"] == first["id"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"url": "ftp://example.com/feed"}, 400),
        ({"url": "https://user:pw@example.com/feed"}, 400),
        ({"url": "https://example.com/feed", "interval": 5}, 422),
        ({"url": "https://example.com/feed", "section": "nowhere"}, 422),
        ({"url": "https://example.com/feed", "colour": "red"}, 422),
    ],
)
async def test_invalid_subscriptions_are_refused_with_a_problem(
    client: httpx.AsyncClient, body: dict[str, Any], status: int
) -> None:
    response = await client.post("/feeds", json=body)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_pull_summarizes_each_new_item_into_the_report(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    await subscribe(client, site.url(NEWS), section="daily_news")

    tally = await pull(client)

    assert (tally["feeds"], tally["new"], tally["failures"]) == (1, 3, 0)
    news = items_of(await report_of(client), "daily_news")
    assert {item["url"] for item in news} == {site.url(path) for path in ARTICLES}
    # The tracking parameters of the feed's link are gone from the stored URL.
    assert all("utm_" not in item["url"] for item in news)


async def test_a_second_pull_is_conditional_and_costs_nothing(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    feed = await subscribe(client, site.url(NEWS))
    await pull(client)
    stored = (await client.get(f"/feeds/{feed['id']}")).json()
    article_hits = sum(site.hits[path] for path in ARTICLES)

    again = await pull(client, force=True)

    assert stored["etag"] == '"news-v1"'
    assert stored["last_modified"] == "Sun, 22 Nov 2026 07:45:00 GMT"
    assert (again["new"], again["duplicates"], again["failures"]) == (0, 0, 0)
    assert sum(site.hits[path] for path in ARTICLES) == article_hits
    assert site.statuses[NEWS][-1] == 304
    assert (await report_of(client))["item_count"] == 3


async def test_a_pull_before_the_interval_takes_nothing_unless_forced(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    await subscribe(client, site.url(NEWS))
    await pull(client)
    fetched = site.hits[NEWS]

    early = await pull(client)

    assert early["feeds"] == 0
    assert site.hits[NEWS] == fetched


async def test_japanese_incident_feed_items_are_link_lines(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    await subscribe(client, site.url("/feeds/jp-incidents.rdf"), section="japan_incidents")

    tally = await pull(client)

    assert tally["new"] == 1
    (item,) = items_of(await report_of(client), "japan_incidents")
    assert item["kind"] == "link"
    assert item["url"] == site.url("/feed-articles/jp-incident.html")
    markdown = (await client.get("/reports/today", headers={"Accept": "text/markdown"})).text
    section = markdown.split("日本のインシデント事例", 1)[1]
    assert f"]({site.url('/feed-articles/jp-incident.html')})" in section.splitlines()[1]


async def test_atom_items_go_to_the_feeds_section_and_a_shared_story_is_taken_once(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    await subscribe(client, site.url("/feeds/research.atom"), section="security_report")
    await subscribe(client, site.url(NEWS), section="daily_news")

    tally = await pull(client)

    # windows-zero-day is in both feeds: one item, in one section, summarized once.
    assert (tally["feeds"], tally["new"], tally["duplicates"]) == (2, 4, 1)
    report = await report_of(client)
    urls = [i["url"] for s in report["sections"] for i in s["items"]]
    assert sorted(urls) == sorted(set(urls))
    assert site.url("/feed-articles/router-botnet.html") in {
        i["url"] for i in items_of(report, "security_report")
    }


async def test_keyword_and_url_pattern_filters(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    await subscribe(client, site.url(NEWS), keywords=["ＲＡＮＳＯＭＷＡＲＥ", "phishing"])
    await subscribe(
        client, site.url("/feeds/research.atom"), url_patterns=["/feed-articles/router-*"]
    )

    tally = await pull(client)

    assert (tally["new"], tally["filtered"]) == (3, 2)
    urls = {i["url"] for s in (await report_of(client))["sections"] for i in s["items"]}
    assert urls == {
        site.url("/feed-articles/hospital-ransomware.html"),
        site.url("/feed-articles/phishing-kit.html"),
        site.url("/feed-articles/router-botnet.html"),
    }


async def test_items_pointing_at_internal_addresses_are_refused_and_reported(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    feed = await subscribe(client, site.url("/feeds/blocked-items.rss"))

    tally = await pull(client)

    assert (tally["new"], tally["failures"]) == (1, 2)
    problems = {p["url"]: p["problem"]["type"] for p in tally["problems"]}
    assert problems == {
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/": (
            "/problems/fetch-blocked"
        ),
        "http://127.0.0.2/admin/": "/problems/fetch-blocked",
    }
    stored = (await client.get(f"/feeds/{feed['id']}")).json()
    assert "fetch-blocked" in stored["last_error"]
    assert stored["items_failed"] == 2


async def test_billion_laughs_feed_is_read_without_expansion_or_external_dtd(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    await subscribe(client, site.url("/feeds/billion-laughs.rss"))

    tally = await pull(client)

    assert (tally["new"], tally["failures"]) == (1, 0)
    assert site.hits["/feeds/evil.dtd"] == 0


async def test_a_feed_with_text_before_its_doctype_is_read_without_expansion(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    # Issue 12: "x" before the DOCTYPE sent feedparser to its lenient parser, which expanded
    # a 50 KB entity into the titles (the item's: 100,000,000 characters).
    path = "/feeds/text-before-doctype.rss"
    body = (FEEDS / "text-before-doctype.rss").read_bytes()
    site.routes[path] = Route(body=body, content_type="application/rss+xml")
    try:
        feed = await subscribe(client, site.url(path))

        tally = await pull(client)

        assert (tally["new"], tally["failures"]) == (1, 0)
        title = (await client.get(f"/feeds/{feed['id']}")).json()["title"]
        assert title.startswith("Text before the DOCTYPE")
        assert "A" * 100 not in title
    finally:
        site.routes.pop(path, None)


async def test_broken_and_non_feeds_are_the_feeds_last_error(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    broken = await subscribe(client, site.url("/feeds/malformed.rss"))
    html = await subscribe(client, site.url("/feeds/not-a-feed"), check=False)
    missing = await subscribe(client, site.url("/feeds/missing.rss"), check=False)

    tally = await pull(client)

    # The malformed feed is read leniently: the item that can be read is summarized.
    assert tally["new"] == 1
    assert (await report_of(client))["item_count"] == 1
    assert tally["failures"] == 2
    errors = {f["id"]: f["last_error"] for f in (await client.get("/feeds")).json()["feeds"]}
    assert errors[broken["id"]] is None
    assert errors[html["id"]].startswith("not-a-feed")
    assert errors[missing["id"]].startswith("fetch-failed")


async def test_pull_without_wait_answers_202_with_a_job_per_feed(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    feed = await subscribe(client, site.url(NEWS))

    accepted = await client.post("/feeds/pull")

    assert accepted.status_code == 202
    (started,) = accepted.json()["pulls"]
    assert started["feed_id"] == feed["id"]
    done = (await client.get(f"{started['location']}?wait=20")).json()
    assert done["status"] == "succeeded"
    assert len(done["result"]["item_jobs"]) == 3
    for item_job in done["result"]["item_jobs"]:
        item = (await client.get(f"/jobs/{item_job}?wait=20")).json()
        assert item["status"] == "succeeded"
        assert item["result"]["section"] in {s.value for s in Section}


async def test_unknown_feed_in_a_pull_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post("/feeds/pull", json={"ids": [4242]})

    assert response.status_code == 404
    assert response.json()["ids"] == [4242]


async def test_two_pullers_at_once_take_a_due_feed_once(
    app: FastAPI, client: httpx.AsyncClient, site: FixtureSite
) -> None:
    await subscribe(client, site.url(NEWS))
    sessionmaker = app.state.secdigest.sessionmaker

    async def claim() -> list[int]:
        async with session_scope(sessionmaker) as session:
            return await feeds.claim_due_feeds(session)

    first, second = await asyncio.gather(claim(), claim())

    assert sorted([len(first), len(second)]) == [0, 1]


async def test_an_item_seen_before_is_not_queued_again_when_the_feed_is_read_again(
    app: FastAPI, client: httpx.AsyncClient, site: FixtureSite
) -> None:
    # malformed.rss sends no validators: the second pull reads and parses it in full.
    await subscribe(client, site.url("/feeds/malformed.rss"))
    await pull(client)
    async with session_scope(app.state.secdigest.sessionmaker) as session:
        before = await session.scalar(select(func.count(Job.id)))

    tally = await pull(client, force=True)

    async with session_scope(app.state.secdigest.sessionmaker) as session:
        after = await session.scalar(select(func.count(Job.id)))
    assert (tally["new"], tally["duplicates"]) == (0, 1)
    assert after == before + 1  # the feed-pull job only
    assert site.statuses["/feeds/malformed.rss"][-1] == 200


async def test_a_pull_longer_than_the_wait_answers_202_and_goes_on(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    slow = "/feed-slow/story.html"
    site.routes[slow] = replace(site.routes["/feed-articles/phishing-kit.html"], delay=1.5)
    site.routes["/feed-slow/rss"] = _rss(slow)
    try:
        await subscribe(client, site.url("/feed-slow/rss"))

        response = await client.post("/feeds/pull?wait=0.3")

        assert response.status_code == 202
        (started,) = response.json()["pulls"]
        done = (await client.get(f"{started['location']}?wait=20")).json()
        (item_job,) = done["result"]["item_jobs"]
        item = (await client.get(f"/jobs/{item_job}?wait=20")).json()
        assert item["status"] == "succeeded"
    finally:
        site.routes.pop(slow, None)
        site.routes.pop("/feed-slow/rss", None)


def _rss(*links: str) -> Route:
    items = "".join(f"<item><title>Story</title><link>{link}</link></item>" for link in links)
    body = f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"
    return Route(body=body.encode(), content_type="application/rss+xml")


async def test_one_story_in_two_sites_feeds_is_one_entry_with_two_links(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    story_a, story_b = "/feed-dedupe/halvorsen.html", "/2026/12/akira-halvorsen/"
    other_routes = {story_b: article_page("hospital-ransomware-b"), "/rss": _rss(story_b)}
    added = {story_a: article_page("hospital-ransomware-a"), "/feed-dedupe/rss": _rss(story_a)}
    site.routes.update(added)
    try:
        with SiteServer(other_routes) as other:
            await subscribe(client, site.url("/feed-dedupe/rss"), section="daily_news")
            await subscribe(client, other.url("/rss"), section="daily_news")

            tally = await pull(client)

            (item,) = items_of(await report_of(client), "daily_news")
            assert tally["new"] == 2  # two articles stored...
            # ...in one entry, each site's link in it, in the JSON and the Markdown.
            links = {site.url(story_a), other.url(story_b)}
            assert {source["url"] for source in item["sources"]} == links
            markdown = (
                await client.get("/reports/today", headers={"Accept": "text/markdown"})
            ).text
            assert all(f"\n{link}\n" in markdown for link in links)
    finally:
        for path in added:
            site.routes.pop(path, None)
