"""The `secdigest` command in subprocesses, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SECDIGEST = [sys.executable, "-m", "app.cli"]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh installation: its own SQLite file, loopback allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECDIGEST_")}
    env.update(
        SECDIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'secdigest.db'}",
        SECDIGEST_FETCH_ALLOW="127.0.0.1",
        SECDIGEST_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def run_cli(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one `secdigest` command to its end."""
    return subprocess.run(
        [*SECDIGEST, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


# A process that imports the command once, then forks one child per case: each child is a
# `secdigest` process of its own (its arguments, environment, stdin, stdout and stderr, its
# exit status) without the second of imports each start costs. The child ends as the
# interpreter would (an uncaught exception printed, threads joined, exit handlers run)
# but without tearing every module down, which costs a second more. app.tasks builds the
# job broker from the settings at import: the children share the runner's (in-process)
# broker, and read their own settings (the cache is emptied).
_FORKING_RUNNER = r"""
import atexit, importlib, json, os, pkgutil, sys, threading, traceback
import app.cli
from app.settings import get_settings
for found in pkgutil.iter_modules(app.cli.__path__):
    if found.name != "__main__":
        importlib.import_module("app.cli." + found.name)

def child(case):
    os.environ.clear()
    os.environ.update(case["env"])
    for fd, suffix, flags in ((0, ".in", os.O_RDONLY), (1, ".out", os.O_WRONLY),
                              (2, ".err", os.O_WRONLY)):
        opened = os.open(case["base"] + suffix, flags)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["secdigest", *case["args"]]
    get_settings.cache_clear()
    from app.cli.main import main
    try:
        code = main(case["args"])
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
        code = 1
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(30)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)

cases, parallel = json.load(open(sys.argv[1])), int(sys.argv[2])
pending, running, codes = list(enumerate(cases)), {}, {}
while pending or running:
    while pending and len(running) < parallel:
        index, case = pending.pop(0)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            child(case)
        running[pid] = index
    pid, status = os.wait()
    codes[running.pop(pid)] = os.waitstatus_to_exitcode(status)
json.dump([codes[index] for index in range(len(cases))], sys.stdout)
"""


def run_cli_many(
    cases: list[tuple[list[str], dict[str, str], str]],
    workdir: Path,
    env: dict[str, str],
    parallel: int = 2,
) -> list[subprocess.CompletedProcess[str]]:
    """Run many `secdigest` commands (arguments, environment, stdin), each in a process of
    its own forked from one that imported the command (with `env`, no broker): fast enough
    to run every command with every kind of bad argument."""
    specs: list[dict[str, object]] = []
    bases = [workdir / f"case-{number}" for number in range(len(cases))]
    for base, (args, case_env, stdin) in zip(bases, cases, strict=True):
        base.with_suffix(".in").write_text(stdin, encoding="utf-8")
        base.with_suffix(".out").write_bytes(b"")
        base.with_suffix(".err").write_bytes(b"")
        specs.append({"args": args, "env": case_env, "base": str(base)})
    listing = workdir / "cases.json"
    listing.write_text(json.dumps(specs), encoding="utf-8")
    runner = subprocess.run(
        [sys.executable, "-c", _FORKING_RUNNER, str(listing), str(parallel)],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if k != "SECDIGEST_BROKER_URL"},
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert runner.returncode == 0, runner.stderr[-3000:]
    codes = json.loads(runner.stdout)
    return [
        subprocess.CompletedProcess(
            ["secdigest", *args],
            code,
            base.with_suffix(".out").read_text(encoding="utf-8", errors="replace"),
            base.with_suffix(".err").read_text(encoding="utf-8", errors="replace"),
        )
        for (args, _env, _stdin), base, code in zip(cases, bases, codes, strict=True)
    ]


@contextmanager
def running_server(
    env: dict[str, str], *extra: str, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`secdigest serve` on a free port until the block ends; its base URL and process
    (its output in `log` when given, to read after the block)."""
    port = free_port()
    # Output to a file, not a pipe: a pipe nobody reads fills up and stalls the server.
    with open(log, "w+b") if log else tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [*SECDIGEST, "serve", "--port", str(port), *extra],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=output,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                output.seek(0)
                raise RuntimeError(f"server did not start: {output.read().decode()[-2000:]}")
            yield base, process
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=40)


@contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A `secdigest` process for the block (its output in a file: a full pipe stalls)."""
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(
            [*SECDIGEST, *args], env=env, cwd=ROOT, stdout=output, stderr=output
        )
        try:
            yield child
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
            if child.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM):
                output.seek(0)
                print(output.read().decode()[-3000:])


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
