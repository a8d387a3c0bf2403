"""Feeds from the command line, and worker processes on Redis: two at once, one killed
with SIGKILL mid-pull, scheduled pulls shared between workers."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import update

from app.db import create_engine, create_sessionmaker, session_scope
from app.models import Job
from app.services import jobs
from tests.support.model_server import ModelServer, ok
from tests.support.processes import ROOT, SECDIGEST, cli_env, process, run_cli, wait_until
from tests.support.site import FixtureSite

LINE = re.compile(
    r"^feeds=(\d+) new=(\d+) duplicates=(\d+) filtered=(\d+) failures=(\d+) "
    r"model_calls=(\d+) seconds=\d+\.\d$"
)
# news.rss (3 items) and research.atom (2, one of them also in news.rss): 4 articles.
FEEDS = ("/feeds/news.rss", "/feeds/research.atom")


def counts(stdout: str) -> tuple[int, ...]:
    """The final line of `feeds pull`, as numbers."""
    last = stdout.strip().splitlines()[-1]
    match = LINE.match(last)
    assert match, last
    return tuple(int(g) for g in match.groups())


def test_cli_adds_lists_and_pulls_with_a_final_counts_line(
    tmp_path: Path, site: FixtureSite
) -> None:
    env = cli_env(tmp_path)
    for path in FEEDS:
        added = run_cli(["feeds", "add", site.url(path), "--section", "daily_news"], env)
        assert added.returncode == 0, added.stderr

    listed = run_cli(["feeds", "list", "--format", "json"], env)
    first = run_cli(["feeds", "pull"], env)
    second = run_cli(["feeds", "pull", "--force"], env)

    assert [f["url"] for f in json.loads(listed.stdout)] == [site.url(p) for p in FEEDS]
    assert first.returncode == 0, first.stderr
    # feeds, new, duplicates, filtered, failures, model calls (offline engine: none)
    assert counts(first.stdout) == (2, 4, 1, 0, 0, 0)
    assert counts(second.stdout) == (2, 0, 0, 0, 0, 0)  # both 304: nothing to do
    report = run_cli(["report", "today", "--format", "json"], env)
    assert json.loads(report.stdout)["item_count"] == 4


def test_cli_add_reads_the_feed_first_unless_told_not_to(tmp_path: Path, site: FixtureSite) -> None:
    env = cli_env(tmp_path)
    page = site.url("/feeds/not-a-feed")

    refused = run_cli(["feeds", "add", page], env)
    unchecked = run_cli(["feeds", "add", page, "--no-check"], env)

    assert refused.returncode == 1
    assert refused.stderr.startswith("secdigest: not-a-feed: "), refused.stderr
    assert len(refused.stderr.splitlines()) == 1
    assert unchecked.returncode == 0, unchecked.stderr
    listed = run_cli(["feeds", "list", "--format", "json"], env)
    assert [feed["url"] for feed in json.loads(listed.stdout)] == [page]


def test_cli_pull_reports_failures_on_stderr_and_exits_1(tmp_path: Path, site: FixtureSite) -> None:
    env = cli_env(tmp_path)
    run_cli(["feeds", "add", site.url("/feeds/blocked-items.rss")], env)

    pulled = run_cli(["feeds", "pull"], env)

    assert pulled.returncode == 1
    assert counts(pulled.stdout)[1:5] == (1, 0, 0, 2)
    assert "169.254.169.254" in pulled.stderr
    assert "fetch-blocked" in pulled.stderr


# ---------------------------------------------------------------------------- Redis


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The Redis on this machine (and CI's); the tests of the worker path need it."""
    url = os.environ.get("SECDIGEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI has one)")
    return url


@pytest.fixture
def slow_model(model: ModelServer) -> ModelServer:
    """Every model call takes a second: long enough to kill a worker in the middle."""
    model.default = replace(ok(), delay=1.0)
    return model


def worker_env(tmp_path: Path, redis_url: str, model: ModelServer, **extra: str) -> dict[str, str]:
    settings = {
        "SECDIGEST_BROKER_URL": redis_url,
        "SECDIGEST_BROKER_QUEUE": f"secdigest:test:{uuid.uuid4().hex}",
        "SECDIGEST_LLM_BASE_URL": model.base_url,
        "SECDIGEST_LLM_API_KEY": "test-key",
        "SECDIGEST_LLM_MODEL": "test-model",
        "SECDIGEST_LLM_MODE": "tools",
        "SECDIGEST_JOB_STALE_AFTER": "2",
        "SECDIGEST_FEED_SCHEDULE": "false",
    }
    return cli_env(tmp_path, **(settings | extra))


def query(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    path = env["SECDIGEST_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path, timeout=10) as db:
        return db.execute(sql).fetchall()


def item_jobs(env: dict[str, str]) -> list[tuple[object, ...]]:
    return query(env, "SELECT status, attempts FROM jobs WHERE kind = 'summarize'")


def subscribe(env: dict[str, str], site: FixtureSite) -> None:
    assert run_cli(["migrate"], env).returncode == 0
    for path in FEEDS:
        assert run_cli(["feeds", "add", site.url(path)], env).returncode == 0


def finish(pull: subprocess.Popen[bytes], out: IO[bytes]) -> str:
    assert pull.wait(timeout=120) == 0
    out.seek(0)
    return out.read().decode()


def test_two_workers_share_a_pull_and_each_item_costs_one_model_call(
    tmp_path: Path, site: FixtureSite, slow_model: ModelServer, redis_url: str
) -> None:
    env = worker_env(tmp_path, redis_url, slow_model, SECDIGEST_LLM_CONCURRENCY="1")
    subscribe(env, site)

    with process(["worker"], env), process(["worker"], env):
        pulled = run_cli(["feeds", "pull"], env)

    assert pulled.returncode == 0, pulled.stderr
    assert counts(pulled.stdout)[:6] == (2, 4, 1, 0, 0, 4)
    assert slow_model.calls == 4
    assert item_jobs(env) == [("succeeded", 1)] * 4


def test_a_worker_killed_mid_pull_loses_nothing_and_redoes_nothing_finished(
    tmp_path: Path, site: FixtureSite, slow_model: ModelServer, redis_url: str
) -> None:
    env = worker_env(tmp_path, redis_url, slow_model, SECDIGEST_LLM_CONCURRENCY="1")
    subscribe(env, site)

    with ExitStack() as stack, tempfile.TemporaryFile() as out:
        first = stack.enter_context(process(["worker"], env))
        pull = subprocess.Popen(
            [*SECDIGEST, "feeds", "pull"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.DEVNULL
        )
        # One item done, the next one with the model: kill the worker there.
        wait_until(lambda: ("succeeded", 1) in item_jobs(env) and slow_model.calls >= 2)
        first.kill()
        first.wait()
        done_before = sum(1 for status, _ in item_jobs(env) if status == "succeeded")
        calls_before = slow_model.calls
        stack.enter_context(process(["worker"], env))  # the replacement
        output = finish(pull, out)

    assert counts(output)[:5] == (2, 4, 1, 0, 0)
    # Nothing lost: every item in the report once. Nothing done twice: the new worker
    # called the model only for the items the dead one had not finished.
    assert query(env, "SELECT COUNT(*), COUNT(DISTINCT url) FROM articles") == [(4, 4)]
    assert query(env, "SELECT COUNT(*) FROM report_items") == [(4,)]
    assert all(status == "succeeded" for status, _ in item_jobs(env))
    assert slow_model.calls - calls_before == 4 - done_before
    assert done_before >= 1


def test_scheduled_pulls_happen_once_per_interval_across_workers(
    tmp_path: Path, site: FixtureSite, slow_model: ModelServer, redis_url: str
) -> None:
    env = worker_env(
        tmp_path,
        redis_url,
        slow_model,
        SECDIGEST_FEED_SCHEDULE="true",
        SECDIGEST_FEED_CHECK_SECONDS="0.2",
    )
    subscribe(env, site)

    with process(["worker"], env), process(["worker"], env):
        wait_until(lambda: len(query(env, "SELECT id FROM articles")) == 4)
        time.sleep(2)  # ten more schedule checks in each worker

    assert query(env, "SELECT pulls FROM feeds") == [(1,), (1,)]
    assert query(env, "SELECT COUNT(*) FROM jobs WHERE kind = 'feed_pull'") == [(2,)]
    assert slow_model.calls == 4


def test_a_pull_takes_up_item_jobs_an_interrupted_pull_left_pending(
    tmp_path: Path, site: FixtureSite
) -> None:
    env = cli_env(tmp_path, SECDIGEST_JOB_STALE_AFTER="1")
    assert run_cli(["migrate"], env).returncode == 0
    url = site.url("/feed-articles/router-botnet.html")
    asyncio.run(_leave_pending_job(env["SECDIGEST_DATABASE_URL"], url))

    pulled = run_cli(["feeds", "pull"], env)  # no feed is due: only the leftover runs

    assert pulled.returncode == 0, pulled.stderr
    assert counts(pulled.stdout)[:2] == (0, 0)
    assert item_jobs(env) == [("succeeded", 1)]
    assert query(env, "SELECT url FROM articles") == [(url,)]


async def _leave_pending_job(database_url: str, url: str) -> None:
    """A summarize job as a pull killed after queueing it leaves it: pending, long ago."""
    engine = create_engine(database_url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            job = await jobs.create_job(
                session, kind="summarize", payload={"request": {"url": url, "lang": "en"}}
            )
            await session.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(updated_at=datetime(2026, 1, 1, tzinfo=UTC))
            )
    finally:
        await engine.dispose()
