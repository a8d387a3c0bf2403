"""`secdigest feeds add|list|remove|pull`: subscriptions and pulls from the command line.

The arguments are declared in main.py, whose parser every command builds; this module
(rich and the pipeline are not light) is imported only for these commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli._common import fail, migrate_if_asked, run_async, settings
from app.db import session_scope
from app.errors import InvalidRequest, SecdigestError, problem_slug
from app.models.types import utcnow
from app.schemas.feeds import FeedCreate, FeedRead
from app.services import feeds
from app.settings import Settings
from app.state import AppState
from app.tasks import pull_feeds_now, resume_unfinished, start_jobs, stop_jobs


def cmd_feeds(args: argparse.Namespace) -> int:
    """Feed subscriptions: add, list, remove, pull (with a progress bar)."""
    current = settings()
    migrate_if_asked(current)
    return run_async(run(current, args))


def _progress_bar() -> Progress:
    """A rich progress bar on stderr: stdout keeps only the final counts line (scripts).
    Only on a terminal: in a log or cron mail, stderr keeps only the `secdigest:` lines."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("pulling feeds"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


class _BarProgress:
    """A pull's progress (feeds, then the items they bring) shown on a rich bar."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar
        self._task = bar.add_task("pull", total=0)

    def add(self, units: int) -> None:
        total = self._bar.tasks[0].total or 0
        self._bar.update(self._task, total=total + units)

    def advance(self) -> None:
        self._bar.advance(self._task)


async def _add(state: AppState, args: argparse.Namespace) -> int:
    # The API's validation, so that both refuse the same input the same way.
    try:
        body = FeedCreate(
            url=args.url,
            section=args.section,
            keywords=args.keyword or [],
            url_patterns=args.url_pattern or [],
            interval=args.interval,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "feed"
        raise InvalidRequest(f"{where}: {first['msg']}") from None
    async with session_scope(state.sessionmaker) as session:
        # As POST /feeds does: a page that is not a feed is refused now, not at the first pull.
        feed = await feeds.add_feed(
            session,
            body,
            default_interval=state.settings.feed_interval,
            tools=None if args.no_check else state.tools,
        )
    print(f"added feed {feed.id}: {feed.url}")
    return 0


def _cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value).replace("\t", " ")


def _next_pull(feed: FeedRead, now: datetime) -> str:
    """When the schedule (or `feeds pull`) next takes the feed: `now` when it is due; a
    failing feed's next try (sooner than its interval) says which try it is."""
    due = feed.next_pull_at
    when = "now" if due is None or due <= now else due.isoformat(timespec="seconds")
    return f"{when} (retry {feed.pull_failures})" if feed.pull_failures else when


async def _list(state: AppState, args: argparse.Namespace) -> int:
    async with session_scope(state.sessionmaker) as session:
        rows = [FeedRead.model_validate(feed) for feed in await feeds.list_feeds(session)]
    if args.format == "json":
        print(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return 0
    now = utcnow()
    print(
        "id\tsection\tinterval\tlast_pulled\tnext_pull\tnew\tduplicates\tfiltered\tfailed"
        "\turl\terror"
    )
    for r in rows:
        pulled = r.last_pulled_at.isoformat(timespec="seconds") if r.last_pulled_at else None
        error = (r.last_error or "").replace("\n", " ")[:200]
        cells = [r.id, r.section, r.interval, pulled, _next_pull(r, now), r.items_new]
        cells += [r.items_duplicate, r.items_filtered, r.items_failed, r.url, error]
        print("\t".join(_cell(c) for c in cells))
    return 0


async def _remove(state: AppState, args: argparse.Namespace) -> int:
    async with session_scope(state.sessionmaker) as session:
        await feeds.remove_feed(session, args.id)
    print(f"removed feed {args.id}")
    return 0


async def _pull(state: AppState, args: argparse.Namespace) -> int:
    # With the in-process queue this process runs the jobs; with Redis the workers run them
    # and this process waits for them. resume=False: a job marked running may be a server's.
    await start_jobs(state, resume=False)
    # Work an earlier run left (a pull cut by Ctrl-C) is taken up again; jobs of a server
    # running beside us are left to it unless their heartbeat stopped.
    await resume_unfinished(state, stale_after=timedelta(seconds=state.settings.job_stale_after))
    if state.settings.broker_url:
        # Nothing here runs the jobs: without a worker the bar would wait forever, silently.
        sys.stderr.write("secdigest: the pull runs on `secdigest worker` processes (Redis)\n")
    try:
        pulls = await pull_feeds_now(state, ids=args.ids or None, force=args.force)
        if not pulls:
            await _say_nothing_due(state, args)
        with _progress_bar() as bar:
            tally = await feeds.follow_pulls(
                state.sessionmaker, [job for _, job in pulls], progress=_BarProgress(bar)
            )
    finally:
        await stop_jobs()
    for url, problem in tally.problems:
        sys.stderr.write(
            f"secdigest: {url}: {problem_slug(problem)}: {problem.get('detail', '')}\n"
        )
    print(tally.line())
    return 1 if tally.failures else 0


async def _say_nothing_due(state: AppState, args: argparse.Namespace) -> None:
    """One line on stderr when a pull took nothing: when the next one is, and `--force`."""
    async with state.read_sessionmaker() as session:
        rows = [FeedRead.model_validate(feed) for feed in await feeds.list_feeds(session)]
    if args.ids:
        rows = [row for row in rows if row.id in args.ids]
    if not rows:
        sys.stderr.write("secdigest: no feed is subscribed: secdigest feeds add URL\n")
        return
    upcoming = [row.next_pull_at for row in rows if row.next_pull_at is not None]
    what = f"feed {rows[0].id} is not due" if len(rows) == 1 else "no feed is due"
    when = f" (next pull at {min(upcoming).isoformat(timespec='seconds')})" if upcoming else ""
    sys.stderr.write(f"secdigest: {what}{when}; --force pulls now\n")


_ACTIONS = {"add": _add, "list": _list, "remove": _remove, "pull": _pull}


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run one `feeds` action with the service's clients."""

    state = AppState.open(settings)
    try:
        return await _ACTIONS[args.feeds_command](state, args)
    except SecdigestError as exc:
        fail(exc)
        return 1
    finally:
        await state.close()
