"""`secdigest report` and `import`: a stored day's report out, a Markdown report in."""

from __future__ import annotations

import argparse
import sys

from app.cli._common import (
    fail,
    migrate_if_asked,
    print_json,
    read_input,
    run_async,
    settings,
    with_state,
)
from app.db import session_scope
from app.errors import InvalidRequest, SecdigestError
from app.schemas.reports import report_read
from app.services import reports
from app.services.markdown import labels_for, parse_report, render_report
from app.services.reports.context import day_context
from app.state import AppState


def cmd_report(args: argparse.Namespace) -> int:
    """Print a stored daily report."""
    current = settings()
    migrate_if_asked(current)
    lang = args.lang or current.lang
    labels = labels_for(lang, current.model_recommendations_label)

    async def work(state: AppState) -> int:
        try:
            async with session_scope(state.sessionmaker) as session:
                day = await reports.resolve_day(session, args.date, current.tz)
                document = await reports.load_document(session, day)
                context = await day_context(session, document)
        except SecdigestError as exc:
            fail(exc)
            return 1
        if args.format == "json":
            print_json(report_read(document, labels, lang, context).model_dump(mode="json"))
        else:
            sys.stdout.write(render_report(document, labels))
        return 0

    return run_async(with_state(current, work))


def cmd_import(args: argparse.Namespace) -> int:
    """Store a report written in the digest's Markdown format."""
    current = settings()
    # The file and the day first: a missing file or a bad date fails before the database.
    day = reports.parse_day(args.date, current.tz)
    if day is None:
        raise InvalidRequest("import into a named day, not 'latest'")
    text = read_input(args.file)
    migrate_if_asked(current)

    async def work(state: AppState) -> int:
        try:
            document = parse_report(text, day=day)
            async with session_scope(state.sessionmaker) as session:
                await reports.import_document(session, day, document)
        except SecdigestError as exc:
            fail(exc, args.file)
            return 1
        print(f"imported {len(document.items)} items into the report of {day.isoformat()}")
        return 0

    return run_async(with_state(current, work))
