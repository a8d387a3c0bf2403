"""Dedupe through the API: one story from two sites is one entry with two links; a page's
rel=canonical finds the stored article, but only on the page's own site."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import session_scope
from app.models import Article, ReportItem, Summary
from tests.support.site import FixtureSite, Route, SiteServer

ARTICLES = Path(__file__).resolve().parent.parent / "fixtures" / "dedupe" / "articles"
DAY = "2026-12-02"


def _page(name: str, *, canonical: str | None = None, site_name: str = "News") -> Route:
    """A fixture article as a news site serves it: title, canonical link, paragraphs."""
    title, _, body = (ARTICLES / f"{name}.txt").read_text(encoding="utf-8").partition("\n\n")
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n") if p.strip())
    link = f'<link rel="canonical" href="{html.escape(canonical)}">' if canonical else ""
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} | {site_name}</title>{link}</head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>"
        f"{paragraphs}</article><footer>(c) {site_name}</footer></body></html>"
    )
    return Route(body=page.encode("utf-8"))


@pytest.fixture(scope="module")
def other_site() -> Iterator[FixtureSite]:
    """A second news site on another port: another origin than the `site` fixture."""
    routes = {
        "/2026/12/akira-halvorsen/": _page("hospital-ransomware-b", site_name="Record"),
        "/2026/12/cedar-valley/": _page("school-ransomware", site_name="Record"),
    }
    with SiteServer(routes) as running:
        yield running


@pytest.fixture
def pages(site: FixtureSite) -> Iterator[FixtureSite]:
    """Dedupe pages on the shared fixture site, removed afterwards."""
    added = {
        "/dedupe/halvorsen.html": _page(
            "hospital-ransomware-a", canonical="/dedupe/halvorsen.html"
        ),
        # Another URL of the same article whose page names the first as canonical.
        "/dedupe/print/halvorsen.html": _page(
            "hospital-ransomware-a", canonical="/dedupe/halvorsen.html"
        ),
        # A different story whose page claims another site's article.
        "/dedupe/claims-victim.html": _page(
            "school-ransomware", canonical="https://victim.example/halvorsen"
        ),
    }
    site.routes.update(added)
    yield site
    for path in added:
        site.routes.pop(path, None)


async def _summarize(client: httpx.AsyncClient, url: str) -> dict[str, object]:
    response = await client.post("/summarize", json={"url": url, "date": DAY})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def _article_items(report: dict[str, list[dict[str, list[dict[str, object]]]]]) -> list[dict]:
    return [i for s in report["sections"] for i in s["items"] if i["kind"] == "article"]


async def test_one_story_from_two_sites_is_one_item_with_two_links(
    client: httpx.AsyncClient, pages: FixtureSite, other_site: FixtureSite
) -> None:
    first_url = pages.url("/dedupe/halvorsen.html")
    second_url = other_site.url("/2026/12/akira-halvorsen/")

    response = await client.post("/summarize", json={"urls": [first_url, second_url], "date": DAY})

    assert response.status_code == 200, response.text
    first, second = response.json()
    assert second["id"] != first["id"]  # two articles, stored apart...
    assert second["report"]["item_id"] == first["report"]["item_id"]  # ...in one entry
    report = (await client.get(f"/reports/{DAY}")).json()
    assert report["item_count"] == 1
    (item,) = _article_items(report)
    assert [s["url"] for s in item["sources"]] == [first_url, second_url]
    assert item["sources"][1]["title"].startswith("Akira claims attack on Halvorsen Helse")
    markdown = (await client.get(f"/reports/{DAY}", params={"format": "md"})).text
    assert f"\n{first_url}\n{second_url}\n\n- 要約\n" in markdown


async def test_the_merge_holds_when_the_second_site_comes_again(
    client: httpx.AsyncClient, pages: FixtureSite, other_site: FixtureSite
) -> None:
    await _summarize(client, pages.url("/dedupe/halvorsen.html"))
    await _summarize(client, other_site.url("/2026/12/akira-halvorsen/"))

    again = await _summarize(client, other_site.url("/2026/12/akira-halvorsen/"))

    assert again["cached"] is True
    report = (await client.get(f"/reports/{DAY}")).json()
    (item,) = _article_items(report)
    assert len(item["sources"]) == 2


async def test_a_different_story_on_the_same_topic_stays_its_own_item(
    client: httpx.AsyncClient, pages: FixtureSite, other_site: FixtureSite
) -> None:
    await _summarize(client, pages.url("/dedupe/halvorsen.html"))
    await _summarize(client, other_site.url("/2026/12/cedar-valley/"))

    report = (await client.get(f"/reports/{DAY}")).json()

    items = _article_items(report)
    assert len(items) == 2
    assert all(len(item["sources"]) == 1 for item in items)


async def test_a_page_naming_a_stored_article_as_canonical_is_that_article(
    client: httpx.AsyncClient, pages: FixtureSite
) -> None:
    first = await _summarize(client, pages.url("/dedupe/halvorsen.html"))
    hits = pages.hits["/dedupe/print/halvorsen.html"]

    other = await _summarize(client, pages.url("/dedupe/print/halvorsen.html"))

    assert pages.hits["/dedupe/print/halvorsen.html"] == hits + 1  # fetched to find out
    assert other["id"] == first["id"]
    assert other["cached"] is False
    assert other["summary_reused"] is True
    assert first["canonical_url"] == pages.url("/dedupe/halvorsen.html")
    report = (await client.get(f"/reports/{DAY}")).json()
    assert report["item_count"] == 1
    (item,) = _article_items(report)
    assert len(item["sources"]) == 1  # the same article, not another source


async def test_a_page_cannot_claim_another_sites_article(
    client: httpx.AsyncClient, pages: FixtureSite
) -> None:
    victim = await client.post(
        "/summarize",
        json={
            "text": (ARTICLES / "hospital-ransomware-a.txt").read_text(encoding="utf-8"),
            "url": "https://victim.example/halvorsen",
            "date": DAY,
        },
    )
    assert victim.status_code == 200, victim.text

    claimant = await _summarize(client, pages.url("/dedupe/claims-victim.html"))

    assert claimant["id"] != victim.json()["id"]
    assert claimant["canonical_url"] is None  # the claim is not stored either
    assert "Cedar Valley" in " ".join(claimant["summary"]) + claimant["title"]
    report = (await client.get(f"/reports/{DAY}")).json()
    assert report["item_count"] == 2


# ---------------------------------------------------------------------------- texts

STORY = (ARTICLES / "ransomware-affiliate-arrest.txt").read_text(encoding="utf-8")
HEADLINE, _, BODY = STORY.partition("\n\n")


async def _text(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/summarize", json={"date": DAY, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _stored(app: FastAPI) -> tuple[int | None, int | None, int | None]:
    """How many articles, report items and summaries the database holds."""
    async with session_scope(app.state.secdigest.sessionmaker) as session:
        return (
            await session.scalar(select(func.count(Article.id))),
            await session.scalar(select(func.count(ReportItem.id))),
            await session.scalar(select(func.count(Summary.id))),
        )


async def test_the_same_text_sent_again_is_answered_from_storage_with_no_second_entry(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await _text(client, text=STORY)
    # The same words as another paste gives them: CRLF line ends, indents, doubled spaces
    # and blank lines, a trailing newline.
    pasted = "\r\n".join("  " + line.replace(" ", "  ") for line in STORY.split("\n"))

    again = await _text(client, text=pasted + "\r\n\r\n\r\n")

    assert again["id"] == first["id"]
    assert again["cached"] is True
    assert again["report"]["item_id"] == first["report"]["item_id"]
    assert again["summary"] == first["summary"]
    assert await _stored(app) == (1, 1, 1)


async def test_fifty_posts_of_one_text_at_once_make_one_article_and_one_entry(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    responses = await asyncio.gather(
        *(client.post("/summarize", json={"text": STORY, "date": DAY}) for _ in range(50))
    )

    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.json()["report"]["item_id"] for r in responses}) == 1
    assert len({tuple(r.json()["summary"]) for r in responses}) == 1  # one answer for all
    assert await _stored(app) == (1, 1, 1)


async def test_a_known_text_under_another_title_is_that_article_with_its_first_title(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await _text(client, text=BODY, title=HEADLINE)

    again = await _text(client, text=BODY, title="Kyiv arrest")

    assert again["id"] == first["id"]
    assert again["cached"] is True
    assert again["original_title"] == HEADLINE
    assert await _stored(app) == (1, 1, 1)


async def test_force_summarizes_a_known_text_again_in_its_own_article_and_entry(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await _text(client, text=BODY, title=HEADLINE)

    forced = await _text(client, text=BODY, title="Kyiv arrest", force=True)

    assert forced["id"] == first["id"]
    assert forced["cached"] is False
    assert forced["original_title"] == "Kyiv arrest"
    assert forced["report"]["item_id"] == first["report"]["item_id"]
    articles, items, _ = await _stored(app)
    assert (articles, items) == (1, 1)
    report = (await client.get(f"/reports/{DAY}")).json()
    (item,) = _article_items(report)
    assert item["title"] == forced["title"]


async def test_a_known_text_in_another_language_is_summarized_once_more_as_the_same_entry(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    japanese = await _text(client, text=STORY, lang="ja")

    english = await _text(client, text=STORY, lang="en")
    english_again = await _text(client, text=STORY, lang="en")

    assert japanese["id"] == english["id"] == english_again["id"]
    assert english["cached"] is False  # no English summary was stored yet
    assert english_again["cached"] is True
    assert await _stored(app) == (1, 1, 2)


async def test_a_text_sent_again_with_its_url_is_answered_from_storage(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    body = {"text": STORY, "url": "https://news.example/kyiv-arrest"}
    first = await _text(client, **body)

    again = await _text(client, **body)

    assert again["id"] == first["id"]
    assert again["cached"] is True
    assert await _stored(app) == (1, 1, 1)
