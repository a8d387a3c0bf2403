"""`secdigest seen`: where an indicator was seen in the stored reports."""

from __future__ import annotations

import argparse

from app.cli._common import fail, migrate_if_asked, print_json, run_async, settings
from app.db import create_engine, create_read_sessionmaker
from app.errors import SecdigestError
from app.schemas.indicators import IndicatorRead
from app.services import memory


def cmd_seen(args: argparse.Namespace) -> int:
    """Print an indicator's first and last report days and its sightings, newest first."""
    current = settings()
    migrate_if_asked(current)

    async def work() -> int:
        # The database alone, not the app's state: a script asks about one value at a time,
        # and the state's clients (HTTP, the summary engine) are most of a start's cost.
        engine = create_engine(current.database_url)
        try:
            # It only reads: a read session never waits for SQLite's write lock.
            async with create_read_sessionmaker(engine)() as session:
                summary = await memory.indicator_summary(
                    session, args.value, cursor=args.cursor, limit=args.limit
                )
        except SecdigestError as exc:
            fail(exc)  # the detail names the value, quoted: one line whatever it holds
            return 1
        finally:
            await engine.dispose()
        # The JSON of GET /indicators, field for field.
        print_json(IndicatorRead.model_validate(summary).model_dump(mode="json"))
        return 0

    return run_async(work())
