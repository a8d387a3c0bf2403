"""`secdigest search`: the stored entries that contain every term, best first."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from app.cli._common import fail, migrate_if_asked, print_json, run_async, settings, with_state
from app.errors import InvalidRequest, SecdigestError
from app.schemas.search import IOC_TYPES, search_read
from app.services.search import SearchFilters, SearchPage, search
from app.state import AppState


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(f"{option} {value!r} is not a date: use YYYY-MM-DD") from exc


def _write_text(page: SearchPage) -> None:
    """One block per entry: where it is, its title, its snippet (the terms in «»)."""
    out = sys.stdout
    if not page.hits:
        out.write("no entry contains every term\n")
    for hit in page.hits:
        score = f"  score {hit.score:.3g}" if hit.score is not None else ""
        out.write(f"{hit.day.isoformat()}  {hit.section}  #{hit.item_id}{score}\n")
        out.write(f"  {hit.title}\n")
        if hit.url:
            out.write(f"  {hit.url}\n")
        out.write(f"  {hit.snippet}\n\n")
    if page.next_cursor:
        out.write(f"more: --cursor {page.next_cursor}\n")


def cmd_search(args: argparse.Namespace) -> int:
    """Print the entries whose text contains every term of the query."""
    current = settings()
    migrate_if_asked(current)

    async def work(state: AppState) -> int:
        try:
            if args.ioc_type is not None and args.ioc_type not in IOC_TYPES:
                raise InvalidRequest(f"--type must be one of {', '.join(IOC_TYPES)}")
            filters = SearchFilters(
                first=_day(args.first, "--from"),
                last=_day(args.last, "--to"),
                section=args.section,
                ioc_type=args.ioc_type,
            )
            async with state.read_sessionmaker() as session:
                page = await search(
                    session, text=args.query, filters=filters, limit=args.limit, cursor=args.cursor
                )
        except SecdigestError as exc:
            fail(exc)
            return 1
        if args.format == "json":
            print_json(search_read(page).model_dump(mode="json"))
        else:
            _write_text(page)
        return 0

    return run_async(with_state(current, work))
