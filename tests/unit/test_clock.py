"""The change clock: any committed change to a report or a key is seen by the next read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
import sqlalchemy as sa

from app.clock import ChangeClock, open_clock
from app.db import create_engine
from app.logs import next_request_serial, request_serial_var
from app.models import Report


@pytest.fixture
async def clock(database_url: str) -> AsyncIterator[ChangeClock]:
    opened = open_clock(database_url)
    yield opened
    await opened.close()


async def _change(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.delete(Report).where(Report.day == date(1999, 1, 1)))
            await connection.execute(
                sa.insert(Report).values(day=date(1999, 1, 1), change_token="t")
            )
    finally:
        await engine.dispose()


async def test_a_committed_change_is_seen_by_the_next_read(
    clock: ChangeClock, database_url: str
) -> None:
    before = await clock.now()
    assert await clock.now() == before  # nothing changed: the same value

    await _change(database_url)

    assert await clock.now() > before


async def test_reads_asked_at_once_share_a_read_that_started_after_them(
    clock: ChangeClock, database_url: str
) -> None:
    before = await clock.now()
    first = await asyncio.gather(*(clock.now() for _ in range(16)))
    await _change(database_url)
    after = await asyncio.gather(*(clock.now() for _ in range(16)))

    assert set(first) == {before}
    assert len(set(after)) == 1
    assert after[0] > before


async def test_one_request_reads_the_clock_once(clock: ChangeClock, database_url: str) -> None:
    token = request_serial_var.set(next_request_serial())
    try:
        seen = await clock.now()
        await _change(database_url)
        assert await clock.now() == seen  # the same request: the same moment
    finally:
        request_serial_var.reset(token)
    assert await clock.now() > seen  # the next request sees the change
