"""Rows as the previous release wrote them (in plain SQL), and plain SQL on a database URL.

Shared by the migration tests that downgrade to PREVIOUS_RELEASE, write what 0.6.0 left
behind, upgrade, and read the result back.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import create_engine
from app.http import idempotency
from app.services import apikeys
from app.services.extract import text_to_article
from app.services.pipeline import content_hash

# The last revision of 0.6.0: its rows are written as it wrote them, in plain SQL.
PREVIOUS_RELEASE = "d2dedupe0001"
DAY = "2026-12-01"
STORY = (
    "Police in Kyiv detained a ransomware affiliate who broke into firms through exposed "
    "remote desktop servers and encrypted their systems with LockBit. "
) * 3
IOCS_BODY = b'{"text": "beacon to 45.137.21[.]9"}'
KEPT_ANSWER = '{"kept": "by 0.6.0"}'
# An indicator as 0.6.0 stored it in report_items.iocs.
EVIL = {"type": "domain", "value": "evil-cdn.com", "defanged": "evil-cdn[.]com", "flags": []}

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_WHEN = sa.DateTime(timezone=True)
ARTICLES = sa.table(
    "articles",
    *(sa.column(c) for c in ("id", "url", "source", "title", "lang", "text", "content_hash")),
    sa.column("created_at", _WHEN),
    sa.column("updated_at", _WHEN),
)
REPORTS = sa.table(
    "reports",
    sa.column("id"),
    sa.column("day", sa.Date()),
    sa.column("created_at", _WHEN),
    sa.column("updated_at", _WHEN),
)
LISTS = ("summary", "iocs", "recommendations", "other", "model_recommendations")
ITEMS = sa.table(
    "report_items",
    *(sa.column(c) for c in ("report_id", "article_id", "section", "position", "kind", "title")),
    *(sa.column(c, _JSON) for c in LISTS),
    sa.column("created_at", _WHEN),
    sa.column("updated_at", _WHEN),
)
KEYS = sa.table(
    "api_keys",
    *(sa.column(c) for c in ("name", "prefix", "key_hash", "scope")),
    sa.column("created_at", _WHEN),
)
IDEMPOTENCY = sa.table(
    "idempotency_keys",
    *(sa.column(c) for c in ("key", "method", "path", "request_hash", "status_code", "body")),
    sa.column("headers", _JSON),
    sa.column("created_at", _WHEN),
)


async def insert(connection: AsyncConnection, table: sa.TableClause, **values: Any) -> Any:
    """Insert a row, its id back (ids drawn by the database: PostgreSQL's sequences move)."""
    returning = [table.c.id] if "id" in table.c else []
    result = await connection.execute(sa.insert(table).values(**values).returning(*returning))
    return result.scalar_one() if returning else None


def write_previous_release_rows(url: str, *, api_key: str | None) -> list[int]:
    """What 0.6.0 left behind: one text stored twice (two entries), the same text under a
    URL, a kept Idempotency-Key answer, and the API key if one existed. The article ids."""
    now = datetime.now(UTC)
    text = text_to_article(STORY).text
    stamps = {"created_at": now, "updated_at": now}
    article = {"source": "text", "title": "Kyiv arrest", "lang": "en", "text": text, **stamps}

    async def write() -> list[int]:
        engine = create_engine(url)
        try:
            async with engine.begin() as c:
                ids = [
                    await insert(c, ARTICLES, url=link, content_hash=content_hash(text), **article)
                    for link in (None, None, "https://news.example/kyiv")
                ]
                report = await insert(c, REPORTS, day=date.fromisoformat(DAY), **stamps)
                for position, article_id in enumerate(ids[:2]):
                    lists: dict[str, list[str]] = {name: [] for name in LISTS}
                    await insert(
                        c,
                        ITEMS,
                        report_id=report,
                        article_id=article_id,
                        section="daily_news",
                        position=position,
                        kind="article",
                        title="Kyiv arrest",
                        **lists,
                        **stamps,
                    )
                if api_key is not None:
                    prefix = api_key[: apikeys.PREFIX_LENGTH]
                    await insert(
                        c,
                        KEYS,
                        name="soar",
                        prefix=prefix,
                        key_hash=apikeys.hash_key(api_key),
                        scope="write",
                        created_at=now,
                    )
                await insert(
                    c,
                    IDEMPOTENCY,
                    key="run-7",
                    method="POST",
                    path="/iocs",
                    request_hash=idempotency.request_hash("POST", "/iocs", "", IOCS_BODY),
                    status_code=200,
                    body=KEPT_ANSWER,
                    headers={"content-type": "application/json"},
                    created_at=now,
                )
            return ids
        finally:
            await engine.dispose()

    return asyncio.run(write())


def fetch_all(url: str, query: str) -> list[tuple[object, ...]]:
    """The rows a plain SQL query answers."""

    async def read() -> list[tuple[object, ...]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as c:
                return [tuple(row) for row in (await c.execute(sa.text(query))).all()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def execute(url: str, statement: str) -> None:
    """A plain SQL statement, committed (as another program would write it)."""

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as c:
                await c.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())
