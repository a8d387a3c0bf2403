"""The real server under generated requests (schemathesis) and under SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.support.processes import ROOT, cli_env, run_cli, running_server
from tests.support.site import FixtureSite


def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    env = cli_env(tmp_path, SECDIGEST_RATE_LIMIT="100000/minute", SECDIGEST_FETCH_TIMEOUT="2")
    created = run_cli(["keys", "create", "--name", "schemathesis", "--scope", "write"], env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    with running_server(env) as (base, _process):
        st = Path(sys.executable).parent / "st"
        result = subprocess.run(
            [
                str(st),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "no_server_error_of_ours",
                "--header",
                f"Authorization: Bearer {key}",
                "--max-examples",
                "25",
                "--seed",
                "20261125",
                "--phases",
                "examples,coverage,fuzzing",
                "--request-timeout",
                "20",
                "--no-color",
            ],
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
                "PYTHONPATH": str(ROOT),
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "no_server_error_of_ours" in result.stdout or "passed" in result.stdout


def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path, site: FixtureSite) -> None:
    with running_server(cli_env(tmp_path)) as (base, process):
        answers: list[httpx.Response] = []

        def submit() -> None:
            # The page answers after a second: the request is in flight when SIGTERM comes.
            answers.append(
                httpx.post(
                    f"{base}/summarize", json={"url": site.url("/news/slow.html")}, timeout=30
                )
            )

        before = site.hits["/news/slow.html"]  # other tests use the slow page too
        worker = threading.Thread(target=submit)
        worker.start()
        while site.hits["/news/slow.html"] == before:
            threading.Event().wait(0.02)
        process.send_signal(signal.SIGTERM)
        worker.join(timeout=30)
        # uvicorn re-raises the signal once it has shut down gracefully.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)

    assert answers[0].status_code == 200
    assert answers[0].json()["original_title"].startswith("Ember Lynx")
