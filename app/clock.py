"""Has anything that the read caches hold changed? One tiny read per request, any process.

The database's triggers move `change_clock.value` up, in the same transaction, whenever a
report, a report item or an API key changes (migration b1readpath01). A process that reads
the same value as before knows that nothing it cached from those tables is stale, whoever
wrote since (another worker, the CLI); a new value sends it back to the database. The
caches never expire on their own: correctness comes from this number alone.

On SQLite the question costs microseconds: `PRAGMA data_version` on a connection of our
own says whether any other connection committed since we last looked (a check of shared
memory), and only then is the clock row read. On PostgreSQL it is one indexed read on a
connection kept for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from typing import Protocol

import asyncpg
from sqlalchemy.engine import URL

from app.db import async_url, is_sqlite
from app.logs import request_serial_var

log = logging.getLogger("secdigest.clock")

_READ = "SELECT value FROM change_clock WHERE id = 1"


class ChangeClock(Protocol):
    """The value of the change clock, now."""

    async def now(self) -> int:
        """The clock's value; an error when the database cannot say (then cache nothing)."""
        ...

    async def close(self) -> None:
        """Release the connection the clock keeps."""
        ...


class SqliteClock:
    """The clock of a SQLite database, read through a connection of its own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._data_version = -1
        self._value = 0
        self._asked_by = 0

    def _connect(self) -> sqlite3.Connection:
        # Autocommit: each read sees the latest committed state, and no transaction is
        # left open (a reader holding a snapshot would keep the WAL from being recycled).
        # Not mode=ro: a read-only connection cannot create the WAL index when it is missing.
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA query_only=1")
        return connection

    async def now(self) -> int:
        # One look per request: the key check and the route both ask.
        request = request_serial_var.get()
        if request and request == self._asked_by:
            return self._value
        self._asked_by = request
        # Called on the event loop without a thread: both statements read shared memory
        # or one page, in microseconds (a thread hop would cost more than the work).
        if self._connection is None:
            self._connection = self._connect()
        (data_version,) = self._connection.execute("PRAGMA data_version").fetchone()
        if data_version != self._data_version:
            row = self._connection.execute(_READ).fetchone()
            self._data_version = data_version
            self._value = int(row[0]) if row else 0
        return self._value

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresClock:
    """The clock of a PostgreSQL database, read on one connection kept for it.

    Reads are shared, never reused: requests that ask while a read is on its way wait for
    the next one, which starts after they asked, and one query answers all of them. Under
    load that is one round trip per batch instead of a queue of round trips on the one
    connection; and no request is answered by a read older than itself.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._connection: asyncpg.Connection | None = None
        self._running: asyncio.Future[int] | None = None
        self._next: asyncio.Future[int] | None = None
        self._asked_by = 0
        self._last: int | None = None

    async def now(self) -> int:
        # Once per request: the key check and the route both ask.
        request = request_serial_var.get()
        if request and request == self._asked_by and self._last is not None:
            return self._last
        if self._running is None:
            waiter = self._start()
        else:
            if self._next is None:
                self._next = asyncio.get_running_loop().create_future()
            waiter = self._next
        value = await asyncio.shield(waiter)
        self._asked_by, self._last = request, value
        return value

    def _start(self) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._running = future
        asyncio.get_running_loop().create_task(self._read(future))
        return future

    async def _read(self, future: asyncio.Future[int]) -> None:
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self.dsn)
            value = await self._connection.fetchval(_READ)
            future.set_result(int(value or 0))
        except BaseException as exc:
            # Whatever went wrong, the waiting requests are told (they then read the
            # database themselves) and a broken connection is dropped.
            await self._drop()
            future.set_exception(RuntimeError(f"the change clock could not be read: {exc!r}"))
            future.exception()  # retrieved here: no "never retrieved" noise if no one waits
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            # Those who asked during this read get the next one.
            self._running, waiting, self._next = None, self._next, None
            if waiting is not None:
                follower = self._start()
                follower.add_done_callback(lambda done: _pass_on(done, waiting))

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    async def close(self) -> None:
        if self._running is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._running)
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


def _pass_on(done: asyncio.Future[int], waiting: asyncio.Future[int]) -> None:
    if waiting.done():
        return
    if done.exception() is not None:
        waiting.set_exception(done.exception())  # type: ignore[arg-type]
    else:
        waiting.set_result(done.result())


class UncachedClock:
    """A clock that never reads the same twice: nothing is served from a cache.

    For a database another connection cannot see (SQLite in memory).
    """

    def __init__(self) -> None:
        self._value = 0

    async def now(self) -> int:
        self._value += 1
        return self._value

    async def close(self) -> None:
        return None


def open_clock(database_url: str) -> ChangeClock:
    """The clock of the configured database (nothing is opened until it is first read)."""
    url: URL = async_url(database_url)
    if is_sqlite(url):
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return UncachedClock()
        return SqliteClock(database)
    plain = url.set(drivername="postgresql")
    return PostgresClock(plain.render_as_string(hide_password=False))


class ClockMemo:
    """Values read from the database, kept while the change clock reads the same value.

    A new clock value empties it: whatever it held may have changed. Bounded, so that a
    stream of distinct keys (guessed API keys, days) cannot grow it without end.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._clock: int | None = None
        self._values: dict[object, object] = {}

    def get(self, clock: int, key: object) -> object | None:
        """The value kept for `key` at this clock value, or None."""
        if clock != self._clock:
            self._clock, self._values = clock, {}
            return None
        return self._values.get(key)

    def put(self, clock: int, key: object, value: object) -> None:
        """Keep `value` for `key` while the clock reads `clock`."""
        if clock != self._clock:
            self._clock, self._values = clock, {}
        if len(self._values) >= self.max_entries:
            self._values.clear()
        self._values[key] = value
