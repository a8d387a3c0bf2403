"""Rows written by the previous release (0.6.0) are served as before after the upgrade."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import inspect

from app.db import create_engine
from app.main import create_app
from app.migrate import alembic_config, upgrade
from app.services import apikeys
from app.services.extract import text_to_article
from app.services.pipeline import content_hash
from app.settings import Settings
from tests.support.databases import backends, migrated_database
from tests.unit.migrations.rows import (
    DAY,
    IOCS_BODY,
    KEPT_ANSWER,
    PREVIOUS_RELEASE,
    STORY,
    execute,
    fetch_all,
    write_previous_release_rows,
)


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
        oldest, copy, under_url = write_previous_release_rows(url, api_key=None)

        upgrade(url)

        keys = {row[0]: row[1] for row in fetch_all(url, "SELECT id, text_key FROM articles")}
        digest = content_hash(text_to_article(STORY).text)
        assert keys == {oldest: digest, copy: None, under_url: None}
        again, report, _ = _call_the_upgraded_service(url, {})
        assert again.status_code == 200, again.text
        assert again.json()["id"] == oldest
        assert fetch_all(url, "SELECT COUNT(*) FROM articles") == [(3,)]
        assert report.json()["item_count"] == 2  # both old entries kept, no third


@pytest.mark.parametrize("kind", backends())
def test_kept_idempotency_answers_are_replayed_only_when_every_caller_was_anonymous(
    kind: str, tmp_path: Path
) -> None:
    with migrated_database(kind, tmp_path) as url:
        command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
        write_previous_release_rows(url, api_key=None)

        upgrade(url)

        assert _primary_key(url, "idempotency_keys") == ["caller", "key"]
        assert fetch_all(url, "SELECT caller FROM idempotency_keys") == [("anonymous",)]
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
        write_previous_release_rows(url, api_key=key)

        upgrade(url)

        assert fetch_all(url, "SELECT caller FROM idempotency_keys") == [("legacy",)]
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
        write_previous_release_rows(url, api_key=None)

        upgrade(url)

        ((revision, token),) = fetch_all(url, "SELECT revision, change_token FROM reports")
        assert revision == 0
        assert isinstance(token, str)
        assert len(token) >= 16
        # Rows written before display lines existed render all the same.
        assert fetch_all(url, "SELECT COUNT(*) FROM report_items WHERE display IS NULL") == [(2,)]
        _, report, _ = _call_the_upgraded_service(url, {})
        assert report.status_code == 200, report.text
        assert report.headers["etag"].startswith('W/"')
        # Any change to an old item moves them, whoever writes it (here: plain SQL).
        execute(url, "UPDATE report_items SET title = 'Kyiv arrest, update'")
        ((moved, new_token),) = fetch_all(url, "SELECT revision, change_token FROM reports")
        assert moved == revision + 2  # one per row
        assert new_token != token
