"""`secdigest doctor`, run as a user runs it: one line per check, exit 1 on a FAIL."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.model_server import ModelServer, status
from tests.support.processes import cli_env, free_port, run_cli


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli(["doctor", "--timeout", "3"], env)


def check(output: str, name: str) -> tuple[str, str, str]:
    """The status, detail and hint (or "") of one check in the command's output."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        mark, rest = line[:4].strip(), line[6:]  # "ok    name  detail"
        if mark in ("ok", "warn", "FAIL") and rest.startswith(f"{name} "):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            hint = following.split("-> ", 1)[1] if following.lstrip().startswith("->") else ""
            return mark, rest[len(name) :].strip(), hint
    raise AssertionError(f"no check {name!r} in:\n{output}")


def fresh_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh installation: its own SQLite file, no model, the fetch guard as shipped."""
    return cli_env(tmp_path, **{"SECDIGEST_FETCH_ALLOW": "", **extra})


def test_doctor_is_all_ok_on_a_fresh_sqlite_without_a_model(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    before = doctor(env)
    assert before.returncode == 0, before.stdout + before.stderr
    assert check(before.stdout, "database")[0] == "ok"
    assert "not created yet" in check(before.stdout, "database")[1]
    assert not (tmp_path / "var" / "secdigest.db").exists()  # the doctor creates nothing

    assert run_cli(["migrate"], env).returncode == 0
    after = doctor(env)
    assert after.returncode == 0, after.stdout + after.stderr
    marks = [line.split()[0] for line in after.stdout.splitlines() if line[:1].strip()]
    assert marks[:-1] == ["ok"] * (len(marks) - 1), after.stdout  # the last is the tally
    assert "the code's head" in check(after.stdout, "database")[1]
    assert "open mode" in check(after.stdout, "api keys")[1]
    assert "in-process" in check(after.stdout, "broker")[1]
    assert "offline engine" in check(after.stdout, "model")[1]
    assert after.stdout.rstrip().endswith("0 failed, 0 warnings, 9 checks")


def test_doctor_fails_with_a_hint_when_postgresql_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql://secdigest:secret@127.0.0.1:{free_port()}/secdigest"
    result = doctor(fresh_env(tmp_path, SECDIGEST_DATABASE_URL=url))
    assert result.returncode == 1
    mark, detail, hint = check(result.stdout, "database")
    assert mark == "FAIL"
    assert "cannot connect" in detail
    assert "secret" not in result.stdout  # the password is never printed
    assert "server up" in hint


def test_doctor_fails_when_the_database_is_behind_and_auto_migrate_is_off(
    tmp_path: Path,
) -> None:
    result = doctor(fresh_env(tmp_path, SECDIGEST_AUTO_MIGRATE="false"))
    assert result.returncode == 1
    mark, _detail, hint = check(result.stdout, "database")
    assert (mark, hint) == ("FAIL", "run `secdigest migrate`")


def test_doctor_fails_with_a_hint_when_the_model_endpoint_is_down(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    result = doctor(fresh_env(tmp_path, SECDIGEST_LLM_BASE_URL=down))
    assert result.returncode == 1
    mark, detail, hint = check(result.stdout, "model")
    assert mark == "FAIL"
    assert detail.startswith(f"{down}: cannot connect")
    assert "SECDIGEST_LLM_BASE_URL" in hint


def test_doctor_fails_when_the_model_endpoint_answers_an_error(
    tmp_path: Path, model: ModelServer
) -> None:
    model.queue(status(503))
    env = fresh_env(tmp_path, SECDIGEST_LLM_BASE_URL=model.base_url, SECDIGEST_LLM_API_KEY="k")
    result = doctor(env)
    assert result.returncode == 1
    assert check(result.stdout, "model")[:2] == ("FAIL", f"{model.base_url}: answered 503")


def test_doctor_is_ok_with_a_model_that_answers(tmp_path: Path, model: ModelServer) -> None:
    env = fresh_env(
        tmp_path,
        SECDIGEST_LLM_BASE_URL=model.base_url,
        SECDIGEST_LLM_API_KEY="test-key",
        SECDIGEST_LLM_MODEL="test-model",
    )
    result = doctor(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert check(result.stdout, "model")[:2] == ("ok", f"{model.base_url}: test-model answers")
    assert model.calls == 1  # one tiny call
    assert model.requests[0]["max_tokens"] == 1


def test_doctor_pings_the_redis_broker(tmp_path: Path) -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI has one)")
    result = doctor(fresh_env(tmp_path, SECDIGEST_BROKER_URL="redis://127.0.0.1:6379/0"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert check(result.stdout, "broker")[:2] == (
        "ok",
        "redis://127.0.0.1:6379/0: Redis answers (queue secdigest:jobs)",
    )


def test_doctor_fails_when_the_redis_broker_is_down(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = doctor(fresh_env(tmp_path, SECDIGEST_BROKER_URL=url))
    assert result.returncode == 1
    mark, _detail, hint = check(result.stdout, "broker")
    assert (mark, hint) == ("FAIL", "is Redis up and reachable?")


def test_doctor_warns_of_broad_and_internal_fetch_exceptions(tmp_path: Path) -> None:
    allow = "0.0.0.0/0,10.1.2.0/24,news.example.org,bad/host"
    result = doctor(fresh_env(tmp_path, SECDIGEST_FETCH_ALLOW=allow))
    assert result.returncode == 0  # a warning is not a failure
    mark, detail, hint = check(result.stdout, "fetch guard")
    assert mark == "warn"
    assert detail == (
        "4 allowed: 0.0.0.0/0 is a broad range; 10.1.2.0/24 is internal; "
        "'bad/host' is read as the host 'bad'"
    )
    assert hint


def test_doctor_reads_mail_public_url_and_cors_settings_without_contacting_them(
    tmp_path: Path,
) -> None:
    env = fresh_env(
        tmp_path,
        SECDIGEST_SMTP_URL="smtps://soc:secret@mail.example.org",
        SECDIGEST_MAIL_TO="soc@example.org",
        SECDIGEST_PUBLIC_URL="ftp://secdigest.example.org",
        SECDIGEST_CORS_ORIGINS="https://digest.example.org,http://intranet.example.org",
    )
    result = doctor(env)
    assert result.returncode == 1
    assert check(result.stdout, "mail")[:2] == (
        "ok",
        "smtps://mail.example.org:465 (tls) to soc@example.org (not contacted)",
    )
    assert check(result.stdout, "public url")[0] == "FAIL"
    assert check(result.stdout, "cors")[:2] == (
        "warn",
        "plain HTTP origins: http://intranet.example.org",
    )
    assert "secret" not in result.stdout


def test_doctor_reports_a_setting_that_does_not_load(tmp_path: Path) -> None:
    result = doctor(fresh_env(tmp_path, SECDIGEST_TIMEZONE="Mars/Olympus_Mons"))
    assert result.returncode == 1
    mark, detail, hint = check(result.stdout, "settings")
    assert mark == "FAIL"
    assert "unknown timezone" in detail
    assert "SECDIGEST_" in hint
