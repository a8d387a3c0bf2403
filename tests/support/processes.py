"""The `secdigest` command in subprocesses, as a user runs it."""

from __future__ import annotations

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


@contextmanager
def running_server(
    env: dict[str, str], *extra: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`secdigest serve` on a free port until the block ends; its base URL and process."""
    port = free_port()
    # Output to a file, not a pipe: a pipe nobody reads fills up and stalls the server.
    with tempfile.TemporaryFile() as output:
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
