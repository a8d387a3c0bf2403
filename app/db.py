"""The one place that opens the database: URL handling, engine, sessions, the ORM base."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

# Constraint names that Alembic can find again on every backend (SQLite batch mode needs them).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


class Base(DeclarativeBase):
    """Base of every ORM table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def async_url(database_url: str) -> URL:
    """The contract's plain URL (`sqlite:///...`, `postgresql://...`) with an asyncio driver."""
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    backend, _, driver = url.drivername.partition("+")
    if backend in _ASYNC_DRIVERS and driver in ("", "psycopg2", "pysqlite"):
        url = url.set(drivername=_ASYNC_DRIVERS[backend])
    return url


def is_sqlite(url: URL) -> bool:
    """Whether the URL names a SQLite database."""
    return url.get_backend_name() == "sqlite"


def _ensure_sqlite_directory(url: URL) -> None:
    # `make run` on a fresh checkout: ./var/ does not exist yet.
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is turned off: we begin transactions ourselves
    # (below), which also makes SAVEPOINT work as SQLAlchemy expects.
    dbapi_connection.isolation_level = None
    # WAL lets readers run while one writer writes; the busy timeout makes a second writer
    # wait for the lock instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# The execution option a read-only session's connections carry (see create_read_sessionmaker).
READ_ONLY = "secdigest_read_only"


def _on_sqlite_begin(connection: Any) -> None:
    # A session that writes begins IMMEDIATE: it takes the write lock when it starts, so a
    # second writer waits (busy timeout) instead of failing later (a deferred transaction
    # that reads, then writes after another writer committed, gets SQLITE_BUSY that no
    # timeout resolves). Transactions are kept short: none is held across network calls.
    # A read-only session begins deferred: in WAL mode it reads a snapshot while a writer
    # writes, and never waits for, nor holds, the write lock.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """An asyncio engine for the URL; SQLite gets WAL, a busy timeout and foreign keys."""
    url = async_url(database_url)
    if is_sqlite(url):
        _ensure_sqlite_directory(url)
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that may write; they keep loaded objects usable after commit (we render
    after committing). On SQLite their transactions take the write lock from the start."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that only read: they never take SQLite's write lock (a deferred BEGIN).

    A session declares that it writes by coming from `create_sessionmaker`; everything that
    only reads (GET routes, the cached reads' misses) uses these. Writing through one is a
    bug that SQLite answers with "database is locked" once another writer got in between
    (PostgreSQL does not care: its transactions take no lock to read).
    """
    read_engine = engine.execution_options(**{READ_ONLY: True})
    return async_sessionmaker(read_engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit once at the end, roll back everything on any error."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def close_transaction(session: AsyncSession) -> None:
    """Commit what the unit of work has done so far, before slow I/O (a fetch, a model call).

    SQLite has one writer at a time: a transaction held open across a network call would
    hold the lock for seconds. The pipeline's steps are read, then I/O without the
    database, then write; this call sits between them (it commits nothing but reads, or
    the finished part of a batch).
    """
    if session.in_transaction():
        await session.commit()
