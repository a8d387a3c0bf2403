"""Migrations apply, roll back and apply again, on SQLite and (when set) PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from app.db import create_engine
from app.migrate import alembic_config, current_revision, head_revision, upgrade
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
    from app.models.search import include_name

    async def diff(url: str) -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                # The search index is per backend, made by its migration like the triggers
                # (an FTS5 table on SQLite, a GIN trigram index on PostgreSQL): not a model.
                options = {"include_name": include_name}
                return await connection.run_sync(
                    lambda c: list(
                        compare_metadata(MigrationContext.configure(c, opts=options), Base.metadata)
                    )
                )
        finally:
            await engine.dispose()

    with migrated_database(kind, tmp_path) as url:
        assert asyncio.run(diff(url)) == []
