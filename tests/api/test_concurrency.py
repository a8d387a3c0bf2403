"""200 parallel submissions: nothing lost, nothing twice, no 5xx (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import session_scope
from app.models import Article, ReportItem
from tests.support.site import FixtureSite

PAGES = (
    "/news/english-news.html",
    "/jp/sjis.html",
    "/jp/eucjp.html",
    "/jp/utf8-declared-sjis.html",
    "/reports/ember-lynx.pdf",
)


def _text(n: int) -> str:
    return (
        f"Incident {n}: an intrusion set deployed a loader that called back to "
        f"45.137.{n % 250}.{(n * 7) % 250} and stole credentials from help desk systems. "
    ) * 3


async def test_parallel_submissions_lose_nothing_and_duplicate_nothing(
    app: FastAPI, client: httpx.AsyncClient, site: FixtureSite
) -> None:
    bodies = [{"text": _text(n), "date": "2024-12-06"} for n in range(150)]
    # The same five pages ten times each, interleaved: racing writers of one URL.
    bodies += [{"url": site.url(PAGES[n % 5]), "date": "2024-12-06"} for n in range(50)]

    responses = await asyncio.gather(*(client.post("/summarize", json=b) for b in bodies))

    assert sorted({r.status_code for r in responses}) == [200]
    async with session_scope(app.state.secdigest.sessionmaker) as session:
        articles = await session.scalar(select(func.count(Article.id)))
        items = await session.scalar(select(func.count(ReportItem.id)))
        per_article = await session.execute(
            select(ReportItem.article_id, func.count(ReportItem.id)).group_by(ReportItem.article_id)
        )
    assert articles == 155
    assert items == 155
    assert {count for _, count in per_article.all()} == {1}
    url_ids = {r.json()["id"] for r in responses[150:]}
    assert len(url_ids) == 5  # ten submissions of a page are one article
