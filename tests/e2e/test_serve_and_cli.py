"""The installed `secdigest` command, as a user runs it: a real server and the CLI."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import ROOT, cli_env, run_cli, running_server
from tests.support.site import FixtureSite


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`secdigest serve` on a free port, with a fresh (unmigrated) SQLite file."""
    with running_server(cli_env(tmp_path)) as (base, _process):
        yield base


def test_serve_migrates_on_start_and_answers_the_three_users(
    server: str, site: FixtureSite
) -> None:
    assert httpx.get(f"{server}/readyz").json()["status"] == "ready"

    # SOAR: JSON with typed, refanged IOCs.
    article = httpx.post(
        f"{server}/summarize", json={"url": site.url("/news/english-news.html")}, timeout=30
    ).json()
    assert {"type": "ipv4", "value": "45.137.21.9"}.items() <= next(
        i for i in article["iocs"] if i["type"] == "ipv4"
    ).items()
    httpx.post(f"{server}/summarize", json={"url": site.url("/jp/sjis.html")}, timeout=30)

    # Frontend: the day's report as JSON.
    report = httpx.get(f"{server}/reports/today").json()
    assert report["item_count"] == 2

    # Analyst: the day's Markdown with defanged IOCs, each story in its section: the news
    # article summarized, the Japanese company's breach notice as an incident link.
    markdown = httpx.get(f"{server}/reports/today", headers={"Accept": "text/markdown"}).text
    news, incidents = markdown.split("### 日々のニュース要約\n", 1)[1].split(
        "### 日本のインシデント事例\n"
    )
    assert "#### Ember Lynx Targets Logistics Firms With Fake Update Lures" in news
    assert "    - 45.137.21[.]9" in news
    title = "物流大手にランサムウェア攻撃、取引先情報が流出した可能性"
    assert incidents.startswith(f"- [{title}]({site.url('/jp/sjis.html')})\n")
    assert "45.137.21.9" not in markdown
    assert markdown.startswith("# Daily Security Info\n\n### Tools\nN/A\n")


def test_cli_summarize_import_and_report_without_a_server(
    tmp_path: Path, site: FixtureSite, sample_markdown: str
) -> None:
    env = cli_env(tmp_path)

    summarized = run_cli(["summarize", site.url("/jp/sjis.html"), "--format", "md"], env)
    assert summarized.returncode == 0, summarized.stderr
    assert summarized.stdout.startswith("#### 物流大手にランサムウェア攻撃")
    assert "    - malicious-site[.]jp" in summarized.stdout

    sample = tmp_path / "digest.md"
    sample.write_text(sample_markdown, encoding="utf-8")
    imported = run_cli(["import", str(sample), "--date", "2024-12-06"], env)
    assert imported.returncode == 0, imported.stderr
    reported = run_cli(["report", "2024-12-06"], env)
    assert reported.stdout == sample_markdown.rstrip("\n") + "\n"

    as_json = json.loads(run_cli(["report", "latest", "--format", "json"], env).stdout)
    assert as_json["item_count"] >= 1


def test_cli_reports_a_failed_url_on_stderr_and_exits_non_zero(
    tmp_path: Path, site: FixtureSite
) -> None:
    result = run_cli(["summarize", site.url("/missing")], cli_env(tmp_path))

    assert result.returncode == 1
    assert "fetch-failed" in result.stderr
    assert result.stdout == ""


def test_cli_iocs_text_json_and_jsonl(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    text = "Beacon to hxxps://evil-cdn[.]com/gate and 45.137.21[.]9."

    as_json = json.loads(run_cli(["iocs"], env, stdin=text).stdout)
    as_text = run_cli(["iocs", "--format", "text"], env, stdin=text).stdout
    batch = run_cli(
        ["iocs", "--jsonl"],
        env,
        stdin=json.dumps({"id": "a", "text": text}) + "\n" + json.dumps({"id": 2, "text": "none"}),
    ).stdout.splitlines()

    assert {
        "type": "url",
        "value": "https://evil-cdn.com/gate",
        "defanged": "hxxps://evil-cdn[.]com/gate",
    } in as_json
    assert "ipv4\t45.137.21.9" in as_text.splitlines()
    assert [json.loads(line)["id"] for line in batch] == ["a", 2]
    assert json.loads(batch[1])["iocs"] == []


def test_cli_extract_prints_title_and_text(tmp_path: Path) -> None:
    page = ROOT / "tests" / "fixtures" / "site" / "jp-sjis.html"

    result = run_cli(["extract", str(page)], cli_env(tmp_path))

    extracted = json.loads(result.stdout)
    assert "ランサムウェア" in extracted["title"]
    assert extracted["lang"] == "ja"
    assert "推奨" in extracted["text"]


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli(["--help"], cli_env(tmp_path))
    for command in ("serve", "migrate", "summarize", "iocs", "extract", "report", "import"):
        assert command in result.stdout


def _raw_exchange(base: str, request: bytes) -> bytes:
    """Send bytes to the server as they are and read its whole answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_server_answers_unparsable_requests_in_problem_json_and_names_no_software(
    server: str,
) -> None:
    # uvicorn answers these itself, before the application sees anything.
    for unparsable in (
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n",
    ):
        head, _, body = _raw_exchange(server, unparsable).partition(b"\r\n\r\n")
        status, *fields = head.decode("latin-1").split("\r\n")
        headers = {
            name.lower(): value.strip() for name, _, value in (f.partition(":") for f in fields)
        }
        assert status.startswith("HTTP/1.1 400")
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body) == {
            "type": "/problems/bad-request",
            "title": "Bad request",
            "status": 400,
            "detail": "the HTTP request could not be parsed",
        }
        assert "server" not in headers
    assert "server" not in httpx.get(f"{server}/healthz").headers
    assert "server" not in httpx.get(f"{server}/reports").headers


def test_two_server_processes_answer_fresh_reads_after_a_write_by_a_third(
    tmp_path: Path, sample_markdown: str
) -> None:
    env = cli_env(tmp_path)
    day = tmp_path / "day.md"
    day.write_text(sample_markdown, encoding="utf-8")
    assert run_cli(["import", str(day), "--date", "2024-12-06"], env).returncode == 0
    with running_server(env, "--workers", "2") as (base, _process):
        # A new connection per request: the kernel spreads them over both processes, and
        # each caches the day.
        seen = {httpx.get(f"{base}/reports/2024-12-06").headers["etag"] for _ in range(20)}
        assert len(seen) == 1
        day.write_text(sample_markdown.replace("セレッソ大阪", "別のクラブ"), encoding="utf-8")
        assert run_cli(["import", str(day), "--date", "2024-12-06"], env).returncode == 0
        for _ in range(20):  # whichever process answers, it answers the new day
            fresh = httpx.get(f"{base}/reports/2024-12-06", params={"format": "md"})
            assert "別のクラブ" in fresh.text
            assert httpx.get(f"{base}/reports/2024-12-06").headers["etag"] not in seen
