"""`secdigest export` and `blocklist`: a stored day in an export format, a blocklist.

Both print the bytes the API answers (`GET /reports/{date}?format=`, `GET /blocklist/`),
made by the same functions from the same rows.
"""

from __future__ import annotations

import argparse
import sys

from app.cli._common import fail, migrate_if_asked, run_async, settings, with_state
from app.errors import NotFound, SecdigestError
from app.services import reports
from app.services.exports.entries import entries
from app.services.exports.render import ExportOptions, render_export
from app.state import AppState


def _write(body: bytes) -> None:
    # Bytes as they are: a CSV's BOM and CRLF line ends, UTF-8 whatever the terminal's locale.
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()


def cmd_export(args: argparse.Namespace) -> int:
    """Print a stored day as STIX 2.1, MISP events or CSV."""
    current = settings()
    migrate_if_asked(current)
    options = ExportOptions(
        producer=current.producer_name,
        tlp=current.tlp,
        include_flagged=args.include_flagged,
        bom=args.bom and args.format == "csv",  # as the route: only CSV has a BOM
    )

    async def work(state: AppState) -> int:
        try:
            async with state.read_sessionmaker() as session:
                day = await reports.resolve_day(session, args.date, current.tz)
                if await reports.get_report(session, day) is None:
                    raise NotFound(f"there is no report for {day.isoformat()}")
                found = await entries(session, first=day, last=day)
        except SecdigestError as exc:
            fail(exc)
            return 1
        _write(render_export(args.format, found, day=day, options=options))
        return 0

    return run_async(with_state(current, work))


def cmd_blocklist(args: argparse.Namespace) -> int:
    """Print the blocklist of a type: the unflagged indicators of the last N days."""
    current = settings()
    migrate_if_asked(current)

    async def work(state: AppState) -> int:
        lists = state.blocklists
        try:
            listing = await lists.listing(args.type, days=args.days, tz=current.tz)
            rendered = await lists.body(listing)
        except SecdigestError as exc:
            fail(exc)
            return 1
        _write(rendered.body)
        return 0

    return run_async(with_state(current, work))
