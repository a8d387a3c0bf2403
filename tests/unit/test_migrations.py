"""Migrations apply, roll back and apply again, on SQLite and (when set) PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import create_engine
from app.http import idempotency
from app.main import create_app
from app.migrate import alembic_config, current_revision, head_revision, upgrade
from app.services import apikeys
from app.services.extract import text_to_article
from app.services.pipeline import content_hash
from app.settings import Settings
from tests.support.databases import backends, migrated_database

TABLES = {"articles", "article_iocs", "summaries", "reports", "report_items"}


def _tables_and_revision(url: str) -> tuple[set[str], str | None]:
    async def read() -> tuple[set[str], str | None]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            return tables, await current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.mark.parametrize("kind", backends())
def test_upgrade_downgrade_upgrade(kind: str, tmp_path: Path) -> None:
    with migrated_database(kind, tmp_path) as url:
        tables, revision = _tables_and_revision(url)
        assert tables >= TABLES
        assert revision == head_revision()

        command.downgrade(alembic_config(url), "base")
        tables, revision = _tables_and_revision(url)
        assert not tables & TABLES
        assert revision is None

        upgrade(url)
        tables, revision = _tables_and_revision(url)
        assert tables >= TABLES
        assert revision == head_revision()


@pytest.mark.parametrize("kind", backends())
def test_migrations_match_the_models(kind: str, tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from app.db import Base

    async def diff(url: str) -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda c: list(compare_metadata(MigrationContext.configure(c), Base.metadata))
                )
        finally:
            await engine.dispose()

    with migrated_database(kind, tmp_path) as url:
        assert asyncio.run(diff(url)) == []


# ------------------------------------------------------- rows written by the previous release

# The last revision of 0.6.0: its rows are written as it wrote them, in plain SQL.
PREVIOUS_RELEASE = "d2dedupe0001"
DAY = "2026-12-01"
STORY = (
    "Police in Kyiv detained a ransomware affiliate who broke into firms through exposed "
    "remote desktop servers and encrypted their systems with LockBit. "
) * 3
IOCS_BODY = b'{"text": "beacon to 45.137.21[.]9"}'
KEPT_ANSWER = '{"kept": "by 0.6.0"}'

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_WHEN = sa.DateTime(timezone=True)
_ARTICLES = sa.table(
    "articles",
    *(sa.column(c) for c in ("id", "url", "source", "title", "lang", "text", "content_hash")),
    sa.column("created_at", _WHEN),
    sa.column("updated_at", _WHEN),
)
_REPORTS = sa.table(
    "reports",
    sa.column("id"),
    sa.column("day", sa.Date()),
    sa.column("created_at", _WHEN),
    sa.column("updated_at", _WHEN),
)
_LISTS = ("summary", "iocs", "recommendations", "other", "model_recommendations")
_ITEMS = sa.table(
    "report_items",
    *(sa.column(c) for c in ("report_id", "article_id", "section", "position", "kind", "title")),
    *(sa.column(c, _JSON) for c in _LISTS),
    sa.column("created_at", _WHEN),
    sa.column("updated_at", _WHEN),
)
_KEYS = sa.table(
    "api_keys",
    *(sa.column(c) for c in ("name", "prefix", "key_hash", "scope")),
    sa.column("created_at", _WHEN),
)
_IDEMPOTENCY = sa.table(
    "idempotency_keys",
    *(sa.column(c) for c in ("key", "method", "path", "request_hash", "status_code", "body")),
    sa.column("headers", _JSON),
    sa.column("created_at", _WHEN),
)


async def _insert(connection: AsyncConnection, table: sa.TableClause, **values: Any) -> Any:
    """Insert a row, its id back (ids drawn by the database: PostgreSQL's sequences move)."""
    returning = [table.c.id] if "id" in table.c else []
    result = await connection.execute(sa.insert(table).values(**values).returning(*returning))
    return result.scalar_one() if returning else None


def _write_previous_release_rows(url: str, *, api_key: str | None) -> list[int]:
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
                    await _insert(
                        c, _ARTICLES, url=link, content_hash=content_hash(text), **article
                    )
                    for link in (None, None, "https://news.example/kyiv")
                ]
                report = await _insert(c, _REPORTS, day=date.fromisoformat(DAY), **stamps)
                for position, article_id in enumerate(ids[:2]):
                    lists: dict[str, list[str]] = {name: [] for name in _LISTS}
                    await _insert(
                        c,
                        _ITEMS,
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
                    await _insert(
                        c,
                        _KEYS,
                        name="soar",
                        prefix=prefix,
                        key_hash=apikeys.hash_key(api_key),
                        scope="write",
                        created_at=now,
                    )
                await _insert(
                    c,
                    _IDEMPOTENCY,
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


def _read(url: str, query: str) -> list[tuple[object, ...]]:
    async def read() -> list[tuple[object, ...]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as c:
                return [tuple(row) for row in (await c.execute(sa.text(query))).all()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _primary_key(url: str, table: str) -> list[str]:
    async def read() -> list[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as c:
                return await c.run_sync(
                    lambda s: list(inspect(s).get_pk_constraint(table)["constrained_columns"])
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _call_the_upgraded_service(url: str, headers: dict[str, str]) -> list[httpx.Response]:
    """Send the same text again, read the day, replay the kept Idempotency-Key."""
    settings = Settings(
        _env_file=None,
        database_url=url,
        rate_limit="100000/minute",
        lang="ja",
        feed_schedule=False,
    )

    async def call() -> list[httpx.Response]:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://localhost"
            ) as client:
                again = await client.post(
                    "/summarize", json={"text": STORY, "date": DAY}, headers=headers
                )
                report = await client.get(f"/reports/{DAY}", headers=headers)
                replay = await client.post(
                    "/iocs",
                    content=IOCS_BODY,
                    headers={
                        **headers,
                        "Content-Type": "application/json",
                        "Idempotency-Key": "run-7",
                    },
                )
                return [again, report, replay]

    return asyncio.run(call())


@pytest.mark.parametrize("kind", backends())
def test_a_text_stored_twice_by_the_previous_release_is_answered_by_its_oldest_article(
    kind: str, tmp_path: Path
) -> None:
    with migrated_database(kind, tmp_path) as url:
        command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
        oldest, copy, under_url = _write_previous_release_rows(url, api_key=None)

        upgrade(url)

        keys = {row[0]: row[1] for row in _read(url, "SELECT id, text_key FROM articles")}
        digest = content_hash(text_to_article(STORY).text)
        assert keys == {oldest: digest, copy: None, under_url: None}
        again, report, _ = _call_the_upgraded_service(url, {})
        assert again.status_code == 200, again.text
        assert again.json()["id"] == oldest
        assert _read(url, "SELECT COUNT(*) FROM articles") == [(3,)]
        assert report.json()["item_count"] == 2  # both old entries kept, no third


@pytest.mark.parametrize("kind", backends())
def test_kept_idempotency_answers_are_replayed_only_when_every_caller_was_anonymous(
    kind: str, tmp_path: Path
) -> None:
    with migrated_database(kind, tmp_path) as url:
        command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
        _write_previous_release_rows(url, api_key=None)

        upgrade(url)

        assert _primary_key(url, "idempotency_keys") == ["caller", "key"]
        assert _read(url, "SELECT caller FROM idempotency_keys") == [("anonymous",)]
        *_, replay = _call_the_upgraded_service(url, {})
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == json.loads(KEPT_ANSWER)


@pytest.mark.parametrize("kind", backends())
def test_kept_idempotency_answers_are_replayed_to_no_one_when_api_keys_existed(
    kind: str, tmp_path: Path
) -> None:
    key, _ = apikeys.generate_key()
    with migrated_database(kind, tmp_path) as url:
        command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
        _write_previous_release_rows(url, api_key=key)

        upgrade(url)

        assert _read(url, "SELECT caller FROM idempotency_keys") == [("legacy",)]
        *_, fresh = _call_the_upgraded_service(url, {"Authorization": f"Bearer {key}"})
        assert fresh.status_code == 200, fresh.text
        assert "idempotent-replayed" not in fresh.headers
        assert [ioc["value"] for ioc in fresh.json()["iocs"]] == ["45.137.21.9"]


@pytest.mark.parametrize("kind", backends())
def test_a_day_of_the_previous_release_gets_a_revision_that_every_change_moves(
    kind: str, tmp_path: Path
) -> None:
    with migrated_database(kind, tmp_path) as url:
        command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
        _write_previous_release_rows(url, api_key=None)

        upgrade(url)

        ((revision, token),) = _read(url, "SELECT revision, change_token FROM reports")
        assert revision == 0
        assert isinstance(token, str)
        assert len(token) >= 16
        # Rows written before display lines existed render all the same.
        assert _read(url, "SELECT COUNT(*) FROM report_items WHERE display IS NULL") == [(2,)]
        _, report, _ = _call_the_upgraded_service(url, {})
        assert report.status_code == 200, report.text
        assert report.headers["etag"].startswith('W/"')
        # Any change to an old item moves them, whoever writes it (here: plain SQL).
        _execute(url, "UPDATE report_items SET title = 'Kyiv arrest, update'")
        ((moved, new_token),) = _read(url, "SELECT revision, change_token FROM reports")
        assert moved == revision + 2  # one per row
        assert new_token != token


def _execute(url: str, statement: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as c:
                await c.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())
