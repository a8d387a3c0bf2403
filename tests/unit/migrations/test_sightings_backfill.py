"""c1sightings01: the indicators of the previous release's entries are sighted after the upgrade."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command

from app.db import create_engine
from app.migrate import alembic_config, upgrade
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
)

_OLD_IOCS = {  # as 0.6.0 stored them; an `other` line (no rule recognised it) is no indicator
    "2026-11-30": [EVIL, {"type": "ipv4", "value": "45.137.21.9", "defanged": "x", "flags": []}],
    "2026-12-01": [EVIL, {"type": "other", "value": "Sneaky", "defanged": "Sneaky"}],
}


def _write_previous_release_iocs(url: str) -> None:
    stamps = {"created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}

    async def write() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as c:
                for day, iocs in _OLD_IOCS.items():
                    lists: dict[str, list[Any]] = {name: [] for name in LISTS}
                    lists["iocs"] = iocs
                    report = await insert(c, REPORTS, day=date.fromisoformat(day), **stamps)
                    entry = {"section": "daily_news", "position": 0, "kind": "article"}
                    await insert(c, ITEMS, report_id=report, title=day, **entry, **lists, **stamps)
        finally:
            await engine.dispose()

    asyncio.run(write())


@pytest.mark.parametrize("kind", backends())
def test_the_iocs_of_the_previous_release_are_sighted_after_the_upgrade(
    kind: str, tmp_path: Path
) -> None:
    with migrated_database(kind, tmp_path) as url:
        command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
        _write_previous_release_iocs(url)

        upgrade(url)

        sighted = fetch_all(
            url,
            "SELECT i.type, i.value, s.day FROM sightings AS s "
            "JOIN indicators AS i ON i.id = s.indicator_id ORDER BY s.day, i.type",
        )
        assert [(t, v, str(day)) for t, v, day in sighted] == [
            ("domain", "evil-cdn.com", "2026-11-30"),
            ("ipv4", "45.137.21.9", "2026-11-30"),
            ("domain", "evil-cdn.com", "2026-12-01"),
        ]
        # The triggers are there for the old rows too, whoever writes them.
        execute(url, "UPDATE report_items SET iocs = '[]' WHERE title = '2026-11-30'")
        assert fetch_all(url, "SELECT COUNT(*) FROM sightings") == [(1,)]
