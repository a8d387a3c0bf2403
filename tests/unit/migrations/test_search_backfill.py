"""c2search00001: the previous release's entries are searchable after the upgrade."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command

from app.db import create_engine
from app.main import create_app
from app.migrate import alembic_config, upgrade
from app.settings import Settings
from tests.support.databases import backends, migrated_database
from tests.unit.migrations.rows import (
    EVIL,
    ITEMS,
    LISTS,
    PREVIOUS_RELEASE,
    REPORTS,
    execute,
    fetch_all,
    insert,
    write_previous_release_rows,
)

_JAPANESE_ENTRY = {
    "section": "japan_incidents",
    "position": 0,
    "kind": "link",
    "title": "病院のランサムウェア被害",
    "summary": ["電子カルテが暗号化され、外来診療を停止した。"],
    "iocs": [EVIL],
}


def _write_previous_release_japanese_entry(url: str) -> None:
    """An imported entry as 0.6.0 stored it: Japanese text, an indicator, no article."""
    stamps = {"created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}

    async def write() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as c:
                report = await insert(c, REPORTS, day=date(2026, 11, 28), **stamps)
                lists: dict[str, list[Any]] = {name: [] for name in LISTS}
                values = {**lists, **_JAPANESE_ENTRY}
                await insert(c, ITEMS, report_id=report, **values, **stamps)
        finally:
            await engine.dispose()

    asyncio.run(write())


def _search_the_upgraded_service(url: str, *queries: dict[str, str]) -> list[dict[str, Any]]:
    settings = Settings(_env_file=None, database_url=url, rate_limit="100000/minute")

    async def call() -> list[dict[str, Any]]:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://localhost"
            ) as client:
                answers = [await client.get("/search", params=query) for query in queries]
        assert [answer.status_code for answer in answers] == [200] * len(queries)
        return [answer.json() for answer in answers]

    return asyncio.run(call())


def _titles(found: dict[str, Any]) -> list[str]:
    return [hit["title"] for hit in found["results"]]


@pytest.mark.parametrize("kind", backends())
def test_the_entries_of_the_previous_release_are_searchable_after_the_upgrade(
    kind: str, tmp_path: Path
) -> None:
    with migrated_database(kind, tmp_path) as url:
        command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
        write_previous_release_rows(url, api_key=None)
        _write_previous_release_japanese_entry(url)

        upgrade(url)

        assert fetch_all(url, "SELECT COUNT(*) FROM search_documents") == [(3,)]
        lockbit, ransomware, typed, domain = _search_the_upgraded_service(
            url,
            {"q": "LockBit"},  # in the articles' text only
            {"q": "ランサムウェア"},
            {"q": "電子カルテ", "type": "domain"},
            {"q": "evil-cdn.com"},  # an indicator's value
        )
        assert _titles(lockbit) == ["Kyiv arrest", "Kyiv arrest"]
        assert "«LockBit»" in lockbit["results"][0]["snippet"]
        assert _titles(ransomware) == ["病院のランサムウェア被害"]
        assert _titles(typed) == _titles(domain) == ["病院のランサムウェア被害"]
        # The triggers keep the old rows in step too, whoever writes them (here: plain SQL).
        execute(url, "UPDATE report_items SET title = '身代金の要求' WHERE kind = 'link'")
        execute(url, "DELETE FROM report_items WHERE kind = 'article'")
        renamed, gone = _search_the_upgraded_service(url, {"q": "身代金の要求"}, {"q": "LockBit"})
        assert _titles(renamed) == ["身代金の要求"]
        assert _titles(gone) == []
