"""Delivery across real processes: `secdigest webhooks` and `publish` from the command
line, the scheduled publish done once by two Redis workers, and a delivery that survives a
`kill -9` of the workers in the middle of it (Redis on 127.0.0.1:6379, as CI has)."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.support.paths import FIXTURES
from tests.support.processes import cli_env, process, run_cli
from tests.support.receiver import Answer, Receiver, ReceiverServer

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with ReceiverServer() as running:
        yield running


@pytest.fixture(scope="module")
def redis_url() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI has one)")
    return "redis://127.0.0.1:6379/0"


def query(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    path = env["SECDIGEST_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path, timeout=10) as db:
        return db.execute(sql).fetchall()


def prepared(env: dict[str, str], receiver: Receiver, day: str) -> str:
    """A migrated database with the sample as `day`'s report and a webhook; its secret."""
    assert run_cli(["migrate"], env).returncode == 0
    sample = str(FIXTURES / "daily-security-info.md")
    imported = run_cli(["import", sample, "--date", day], env)
    assert imported.returncode == 0, imported.stderr
    added = run_cli(["webhooks", "add", receiver.url("/hook")], env)
    assert added.returncode == 0, added.stderr
    secret: str = json.loads(added.stdout)["secret"]
    return secret


def test_the_command_line_adds_a_webhook_and_publishes_to_it(
    tmp_path: Path, receiver: Receiver
) -> None:
    env = cli_env(tmp_path)
    secret = prepared(env, receiver, "2024-12-06")

    published = run_cli(["publish", "2024-12-06"], env)

    assert published.returncode == 0, published.stderr
    assert json.loads(published.stdout)["number"] == 1
    assert "succeeded" in published.stderr
    (received,) = receiver.wait_for_blocking("/hook", 1)
    payload = Verifier(secret).verify(received.body, received.headers)
    assert payload["data"]["date"] == "2024-12-06"
    listed = run_cli(["webhooks", "list"], env)
    assert json.loads(listed.stdout)["url"] == receiver.url("/hook")
    tested = run_cli(["webhooks", "test", "1"], env)
    assert tested.returncode == 0, tested.stderr
    assert receiver.wait_for_blocking("/hook", 2)[1].body.count(b"webhook.test") == 1
    assert run_cli(["webhooks", "remove", "1"], env).returncode == 0


def test_a_refused_webhook_url_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    env = cli_env(tmp_path, SECDIGEST_FETCH_ALLOW="")

    added = run_cli(["webhooks", "add", "http://127.0.0.1:8111/hook"], env)

    assert added.returncode == 1
    assert added.stderr.splitlines()[-1].startswith("secdigest: fetch-blocked: ")
    assert "SECDIGEST_FETCH_ALLOW" in added.stderr
    assert "Traceback" not in added.stderr


def test_two_workers_publish_on_schedule_once_and_a_kill_9_loses_no_delivery(
    tmp_path: Path, receiver: Receiver, redis_url: str
) -> None:
    now = datetime.now(TOKYO)
    due = now - timedelta(minutes=1)
    if due.date() != now.date():  # just after midnight: the schedule's day would differ
        pytest.skip("too close to midnight in Tokyo for a 'due a minute ago' schedule")
    env = cli_env(
        tmp_path,
        SECDIGEST_BROKER_URL=redis_url,
        SECDIGEST_BROKER_QUEUE=f"secdigest:test:{tmp_path.name}",
        SECDIGEST_PUBLISH_AT=due.strftime("%H:%M"),
        SECDIGEST_PUBLISH_DAY="today",
        SECDIGEST_DELIVERY_CHECK_SECONDS="0.2",
        SECDIGEST_WEBHOOK_TIMEOUT="2",
        SECDIGEST_WEBHOOK_RETRY_DELAYS="1,1,1",
        SECDIGEST_FEED_SCHEDULE="false",
    )
    secret = prepared(env, receiver, now.date().isoformat())
    # The first attempt hangs: the workers are killed while it does.
    receiver.script("/hook", Answer(200, delay=30))

    with process(["worker"], env) as first, process(["worker"], env) as second:
        (hanging,) = receiver.wait_for_blocking("/hook", 1)
        first.kill()
        second.kill()
        first.wait()
        second.wait()

    assert query(env, "SELECT number, source FROM publications") == [(1, "schedule")]
    assert query(env, "SELECT status FROM deliveries") == [("sending",)]
    with process(["worker"], env):
        resent = receiver.wait_for_blocking("/hook", 2)[1]

        assert resent.headers["webhook-id"] == hanging.headers["webhook-id"]
        assert resent.body == hanging.body
        Verifier(secret).verify(resent.body, resent.headers)
    assert query(env, "SELECT status FROM deliveries") == [("succeeded",)]
    assert query(env, "SELECT number FROM publications") == [(1,)]
