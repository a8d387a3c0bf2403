"""`secdigest enrich update|status`: the CVE context (CISA KEV, FIRST EPSS) from the command line.

The arguments are declared in main.py; this module is imported only for these commands.
"""

from __future__ import annotations

import argparse
import sys

from app.cli._common import migrate_if_asked, run_async, settings
from app.db import session_scope
from app.services import enrich
from app.settings import Settings
from app.state import AppState


def cmd_enrich(args: argparse.Namespace) -> int:
    """Update the KEV and EPSS data (conditional GET), or show how each source stands."""
    current = settings()
    migrate_if_asked(current)
    return run_async(run(current, args))


def _cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value).replace("\t", " ")


def _names(args: argparse.Namespace) -> tuple[str, ...]:
    if args.kev_only:
        return (enrich.KEV,)
    if args.epss_only:
        return (enrich.EPSS,)
    return enrich.SOURCES


async def _update(state: AppState, args: argparse.Namespace) -> int:
    async with session_scope(state.sessionmaker) as session:
        outcomes = await enrich.update_sources(
            session, state.http, state.fetch_policy, settings=state.settings, names=_names(args)
        )
    for outcome in outcomes:
        if outcome.error:
            # One line per failure on stderr: scripts and cron mail read it.
            sys.stderr.write(f"secdigest: {outcome.name}: {outcome.error}\n")
            continue
        day = outcome.data_date.isoformat() if outcome.data_date else "-"
        print(f"{outcome.name}: {outcome.status}, {outcome.rows} rows of {day}")
    return 1 if any(outcome.error for outcome in outcomes) else 0


async def _status(state: AppState, args: argparse.Namespace) -> int:
    async with state.read_sessionmaker() as session:
        statuses = await enrich.source_status(session)
    print("source\tstatus\trows\tdate\tversion\tfetched\tetag\terror")
    for s in statuses:
        fetched = s.fetched_at.isoformat(timespec="seconds") if s.fetched_at else None
        error = (s.last_error or "").replace("\n", " ")[:200]
        cells = [s.name, s.status or "never", s.rows, s.data_date, s.version, fetched]
        cells += [s.etag or s.last_modified, error]
        print("\t".join(_cell(c) for c in cells))
    return 0


_ACTIONS = {"update": _update, "status": _status}


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run one `enrich` action with the service's clients."""
    state = AppState.open(settings)
    try:
        return await _ACTIONS[args.enrich_command](state, args)
    finally:
        await state.close()
