"""The KEV and EPSS updates on their schedule (claimed once per interval, across processes)
and by `secdigest enrich` (one status line per source, one error line on failure).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from app.cli.enrich import run as run_enrich
from app.cli.main import build_parser
from app.db import create_engine, session_scope
from app.main import create_app
from app.services import enrich
from app.settings import Settings
from tests.support import enrich as sources
from tests.support.databases import empty_all_tables
from tests.support.enrich import (
    EPSS_DAY,
    KEV,
    KEV_CUT,
    KEV_TAG,
    kev_route,
    state_of,
)
from tests.support.site import FixtureSite

# The sources on a loopback site (one per module); `settings` overrides the suite's own.
source_server = sources.source_server
enrich_site = sources.enrich_site
settings = sources.settings


# ---------------------------------------------------------------------------- the schedule


async def test_the_schedule_claims_each_due_source_once_per_interval(
    app: FastAPI, enrich_site: FixtureSite
) -> None:
    state = state_of(app)

    async def due(at: datetime | None = None) -> list[str]:
        async with session_scope(state.sessionmaker) as session:
            return await enrich.claim_due_sources(session, interval=24 * 3600, now=at)

    async with session_scope(state.sessionmaker) as session:
        first = await enrich.update_due(
            session, state.http, state.fetch_policy, settings=state.settings
        )
    later = datetime.now(UTC) + timedelta(hours=2)

    assert [(o.name, o.status) for o in first] == [("kev", "updated"), ("epss", "updated")]
    assert await due() == []  # another process looking now takes nothing
    assert await due(later) == []  # nor an hour later: the update succeeded
    assert await due(later + timedelta(days=1)) == ["kev", "epss"]
    assert await due(later + timedelta(days=1)) == []
    assert enrich_site.hits[KEV] == 1


async def test_a_failed_scheduled_update_is_claimed_again_an_hour_later(
    app: FastAPI, enrich_site: FixtureSite
) -> None:
    state = state_of(app)
    enrich_site.routes[KEV] = kev_route(KEV_CUT)
    async with session_scope(state.sessionmaker) as session:
        await enrich.update_due(session, state.http, state.fetch_policy, settings=state.settings)
    soon = datetime.now(UTC) + timedelta(minutes=30)

    async with session_scope(state.sessionmaker) as session:
        assert await enrich.claim_due_sources(session, interval=86400, now=soon) == []
        retry = await enrich.claim_due_sources(
            session, interval=86400, now=soon + timedelta(hours=1)
        )

    assert retry == ["kev"]


async def test_the_daily_job_runs_on_the_in_process_schedule_when_asked(
    settings: Settings, enrich_site: FixtureSite
) -> None:
    engine = create_engine(settings.database_url)
    try:
        await empty_all_tables(engine)
    finally:
        await engine.dispose()
    application = create_app(settings.model_copy(update={"enrich_schedule": True}))

    async with application.router.lifespan_context(application):
        state = state_of(application)
        for _ in range(300):  # the schedule's first turn comes at start; wait for its end
            async with state.read_sessionmaker() as session:
                statuses = await enrich.source_status(session)
            if all(s.status for s in statuses):
                break
            await asyncio.sleep(0.05)

    assert [(s.name, s.status, s.rows) for s in statuses] == [
        ("kev", "updated", 5),
        ("epss", "updated", 8),
    ]


# ---------------------------------------------------------------------------- the command


def enrich_args(*words: str) -> argparse.Namespace:
    return build_parser().parse_args(["enrich", *words])


async def test_the_command_updates_and_prints_one_status_line_per_source(
    app: FastAPI, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_enrich(settings, enrich_args("status")) == 0
    never = capsys.readouterr().out.splitlines()

    assert await run_enrich(settings, enrich_args("update")) == 0
    updated = capsys.readouterr()
    assert await run_enrich(settings, enrich_args("status")) == 0
    status = capsys.readouterr().out.splitlines()

    assert never == [
        "source\tstatus\trows\tdate\tversion\tfetched\tetag\terror",
        "kev\tnever\t0\t-\t-\t-\t-\t-",
        "epss\tnever\t0\t-\t-\t-\t-\t-",
    ]
    assert updated.out.splitlines() == [
        "kev: updated, 5 rows of 2025-06-01",
        "epss: updated, 8 rows of 2025-06-01",
    ]
    assert updated.err == ""
    kev, epss = (line.split("\t") for line in status[1:])
    assert kev[:5] + kev[6:] == ["kev", "updated", "5", "2025-06-01", "2025.06.01", KEV_TAG, "-"]
    assert epss[:5] == ["epss", "updated", "8", "2025-06-01", "v2025.03.14"]
    assert datetime.fromisoformat(kev[5]) <= datetime.now(UTC)


async def test_a_failed_update_is_one_line_on_stderr_and_exit_status_1(
    app: FastAPI,
    settings: Settings,
    enrich_site: FixtureSite,
    capsys: pytest.CaptureFixture[str],
) -> None:
    enrich_site.routes[KEV] = kev_route(KEV_CUT)

    code = await run_enrich(settings, enrich_args("update", "--kev-only"))

    printed = capsys.readouterr()
    assert code == 1
    assert printed.out == ""
    assert printed.err.startswith("secdigest: kev: catalog-refused: the KEV file is refused: ")
    assert printed.err.count("\n") == 1
    assert EPSS_DAY not in enrich_site.hits


def test_kev_only_and_epss_only_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["enrich", "update", "--kev-only", "--epss-only"])

    assert "not allowed with argument" in capsys.readouterr().err
