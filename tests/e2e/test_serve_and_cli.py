"""The installed `secdigest` command, as a user runs it: a real server and the CLI."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from app.migrate import head_revision
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


# ---------------------------------------------------------------- quiet logs, options


def user_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's environment: no SECDIGEST_LOG_LEVEL (the tests' cli_env sets WARNING)."""
    env = cli_env(tmp_path, **extra)
    if "SECDIGEST_LOG_LEVEL" not in extra:
        env.pop("SECDIGEST_LOG_LEVEL")
    return env


def test_a_failed_command_prints_its_one_line_and_no_log_line(tmp_path: Path) -> None:
    url = "http://169.254.169.254/latest/meta-data/"

    quiet = run_cli(["summarize", url], user_env(tmp_path))
    asked = run_cli(["summarize", url], user_env(tmp_path, SECDIGEST_LOG_LEVEL="WARNING"))

    assert quiet.returncode == 1
    assert quiet.stderr.splitlines() == [
        f"secdigest: {url}: fetch-blocked: 169.254.169.254 is not a public address"
    ]
    # Asked for, the event shows, in the log's format, before the command's line.
    event, line = asked.stderr.splitlines()
    assert " WARNING secdigest.fetch request_id=- fetch.blocked host=169.254.169.254 " in event
    assert line == quiet.stderr.strip()


def test_migrations_log_one_line_and_alembic_none(tmp_path: Path) -> None:
    env = user_env(tmp_path, SECDIGEST_LOG_LEVEL="INFO")
    log = tmp_path / "serve.log"
    with running_server(env, log=log):
        pass
    report = run_cli(["report", "latest"], env)

    served = log.read_text(encoding="utf-8")
    assert "alembic" not in served + report.stderr
    assert served.count("database at revision") == 1  # the fresh database, migrated
    assert f"INFO secdigest.migrate request_id=- database at revision {head_revision()}" in served
    assert [line.split(" INFO ", 1)[1] for line in report.stderr.splitlines()[:-1]] == [
        f"secdigest.migrate request_id=- database at revision {head_revision()}"
    ]
    assert report.stderr.splitlines()[-1] == "secdigest: not-found: there is no report yet"


def test_feeds_list_shows_the_next_pull_and_a_pull_of_nothing_due_names_force(
    tmp_path: Path, site: FixtureSite
) -> None:
    env = user_env(tmp_path)
    feed = site.url("/feeds/news.rss")
    # A keyword no item has: the pull reads the feed and summarizes nothing (fast).
    run_cli(["feeds", "add", feed, "--keyword", "no-item-says-this", "--interval", "3600"], env)

    before = run_cli(["feeds", "list"], env).stdout.splitlines()
    pulled = run_cli(["feeds", "pull"], env)
    after = run_cli(["feeds", "list"], env).stdout.splitlines()
    again = run_cli(["feeds", "pull"], env)
    forced = run_cli(["feeds", "pull", "--force"], env)

    header = before[0].split("\t")
    column = header.index("next_pull")
    assert before[1].split("\t")[column] == "now"
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stderr == ""  # no progress bar off a terminal
    next_pull = datetime.fromisoformat(after[1].split("\t")[column])
    pulled_at = datetime.fromisoformat(after[1].split("\t")[header.index("last_pulled")])
    assert 3500 < (next_pull - pulled_at).total_seconds() <= 3600
    assert again.returncode == 0
    assert again.stderr.splitlines() == [
        f"secdigest: feed 1 is not due (next pull at {next_pull.isoformat()}); --force pulls now"
    ]
    assert again.stdout.startswith("feeds=0 ")
    assert forced.stdout.startswith("feeds=1 ")
    assert forced.stderr == ""


def test_cli_summarize_takes_the_apis_date_section_lang_and_dry_run(
    tmp_path: Path, site: FixtureSite
) -> None:
    env = user_env(tmp_path)
    page = site.url("/news/english-news.html")

    placed = run_cli(
        ["summarize", page, "--date", "2024-12-01", "--section", "tools", "--lang", "en"], env
    )
    dry = run_cli(
        ["summarize", site.url("/jp/sjis.html"), "--dry-run", "--date", "2024-12-02"], env
    )
    bad_day = run_cli(["summarize", page, "--date", "2024-12-32"], env)

    article = json.loads(placed.stdout)
    assert article["report"] == {"date": "2024-12-01", "item_id": 1, "section": "tools"}
    assert article["summary_lang"] == "en"
    preview = json.loads(dry.stdout)
    assert preview["id"] is None
    assert preview["report"] is None
    assert "ランサムウェア" in preview["title"]
    # Nothing of the dry run was stored: no report of its day, one article in all.
    assert run_cli(["report", "2024-12-02"], env).returncode == 1
    assert (
        json.loads(run_cli(["report", "2024-12-01", "--format", "json"], env).stdout)["item_count"]
        == 1
    )
    assert run_cli(["seen", "malicious-site[.]jp"], env).returncode == 1
    assert bad_day.returncode == 1
    assert bad_day.stderr.startswith("secdigest: invalid-request: '2024-12-32' is not a date")
