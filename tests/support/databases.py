"""Test databases: a migrated SQLite file always, a fresh PostgreSQL database when asked.

PostgreSQL runs when SECDIGEST_TEST_POSTGRES_URL names a server (.ci/run sets it when
127.0.0.1:5432 answers). Each test session creates its own database there and drops it
at the end, so runs on one machine never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import Base, is_sqlite
from app.migrate import upgrade

POSTGRES_ENV = "SECDIGEST_TEST_POSTGRES_URL"


def backends() -> list[str]:
    """The database kinds this run covers."""
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


async def _admin(url: str, statement: str) -> None:
    admin = make_url(url).set(drivername="postgresql")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def migrated_database(kind: str, tmp_dir: Path) -> Iterator[str]:
    """A database URL with every migration applied, removed afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_dir / 'secdigest-test.db'}"
        upgrade(url)
        yield url
        return
    server = os.environ[POSTGRES_ENV]
    name = f"secdigest_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Delete every row, keeping the schema (one migration run per test session)."""
    # The change clock is kept: it only ever goes up, so that a number a process has seen
    # is never seen again with other data behind it.
    tables = [
        table.name
        for table in reversed(Base.metadata.sorted_tables)
        if table.name != "change_clock"
    ]
    async with engine.begin() as connection:
        if is_sqlite(engine.url):
            for table in tables:
                await connection.execute(text(f'DELETE FROM "{table}"'))
        else:
            joined = ", ".join(f'"{t}"' for t in tables)
            await connection.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
