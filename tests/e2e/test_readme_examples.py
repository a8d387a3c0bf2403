"""Every curl and CLI example of the README, run as written against a real server.

Each of the README's `sh` blocks is run, in order, as one bash script in a fresh directory,
as a new user pastes it (a block stops at its first failing command; a curl fails on an
HTTP error): `localhost:8000` is a `secdigest serve` on a free
port, `.venv/bin/secdigest` is this checkout's, and every other site the examples name
(news sites, a SOAR, Slack) is one server on loopback that answers a news page to a GET
and 200 to a POST. A README that drifts from the code fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.paths import FIXTURES
from tests.support.processes import ROOT, cli_env, running_server

README = ROOT / "README.md"
# Lines that start the service or a browser: the rest of the suite covers them.
NOT_RUN = re.compile(r"^(make |open |(SECDIGEST_\w+=\S+ )+make run)")
OUTSIDE = re.compile(r"https?://(?!localhost|127\.0\.0\.1)[A-Za-z0-9.-]+(?::\d+)?(/[^\s\"']*)?")
PAGE = (FIXTURES / "site" / "english-news.html").read_bytes()
# The CVE context sources of `secdigest enrich update`, as CISA and FIRST serve them.
FILES = {
    "/kev.json": (
        (FIXTURES / "enrich" / "known_exploited_vulnerabilities.json").read_bytes(),
        "application/json",
    ),
    "/epss.csv.gz": (
        (FIXTURES / "enrich" / "epss_scores-2025-06-01.csv.gz").read_bytes(),
        "application/gzip",
    ),
}


def readme_blocks() -> list[str]:
    """The README's `sh` blocks, in order, without the lines that start the service."""
    blocks = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        kept = [line for line in block.splitlines() if not NOT_RUN.match(line.strip())]
        if any(line.strip() and not line.lstrip().startswith("#") for line in kept):
            blocks.append("\n".join(kept) + "\n")
    return blocks


def runnable(block: str, *, base: str, outside: str, secdigest: str) -> str:
    """A block as this test runs it: the service, the CLI and other sites on loopback;
    every curl fails on an HTTP error (and still prints the answer), every error stops."""
    text = OUTSIDE.sub(lambda m: f"{outside}/{m.group(0).split('//', 1)[1]}", block)
    text = text.replace("localhost:8000", base.removeprefix("http://"))
    text = text.replace(".venv/bin/secdigest", secdigest)
    text = re.sub(r"(?m)^curl ", "curl --fail-with-body --show-error ", text)
    return "set -euo pipefail\n" + text


class _Outside(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body, content_type = FILES.get(self.path, (PAGE, "text/html; charset=utf-8"))
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def outside() -> Iterator[str]:
    """Every other site of the examples, on loopback: its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Outside)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_readme_has_examples_to_run() -> None:
    blocks = readme_blocks()
    text = "".join(blocks)

    assert len(blocks) >= 6
    assert text.count("curl ") >= 15
    assert ".venv/bin/secdigest" in text


def test_every_readme_example_works_as_written(tmp_path: Path, outside: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(FIXTURES / "daily-security-info.md", work / "daily-security-info.md")
    shutil.copy(FIXTURES / "site" / "english-news.html", work / "page.html")
    env = cli_env(
        tmp_path,
        SECDIGEST_KEV_URL=f"{outside}/kev.json",
        SECDIGEST_EPSS_URL=f"{outside}/epss.csv.gz",
    )
    secdigest = str(ROOT / ".venv" / "bin" / "secdigest")
    failures: list[str] = []
    with running_server(env) as (base, _server):
        for block in readme_blocks():
            script = runnable(block, base=base, outside=outside, secdigest=secdigest)
            done = subprocess.run(
                ["bash", "-c", script],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if done.returncode != 0:
                failures.append(
                    f"{block}  exit {done.returncode}: {(done.stderr + done.stdout)[-600:]}"
                )
    assert not failures, "README examples that fail:\n" + "\n".join(failures)
