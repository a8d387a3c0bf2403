"""`secdigest export` and `secdigest blocklist`: the bytes the API answers, without a server."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support.processes import ROOT, SECDIGEST, cli_env, run_cli

DIGEST = """\
# Daily Security Info

### 日々のニュース要約

#### =HYPERLINK("http://evil.example/x","click") Ember Lynx targets logistics firms
https://news.example.com/ember-lynx

- 要約
    - A campaign against logistics firms.
- IOCの列挙
    - 45.137.21[.]9
    - 10.0.0[.]5
    - hxxps://update-check[.]top/gate.php?id=1
    - 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f
    - CVE-2024-3400
- 推奨事項
    - 推奨事項なし
- その他
    - なし
- ChatGPTの推奨事項
    - 推奨事項なし
"""


def _output(args: list[str], env: dict[str, str]) -> bytes:
    """What the command prints, as bytes (a text pipe would turn CRLF into LF)."""
    done = subprocess.run(
        [*SECDIGEST, *args], capture_output=True, env=env, cwd=ROOT, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh installation with the digest stored for today (one for the module)."""
    tmp_path = tmp_path_factory.mktemp("exports-cli")
    env = cli_env(tmp_path)
    digest = tmp_path / "digest.md"
    digest.write_text(DIGEST, encoding="utf-8")
    imported = run_cli(["import", str(digest), "--date", "today"], env)
    assert imported.returncode == 0, imported.stderr
    return env


async def test_export_and_blocklist_print_the_bytes_the_api_answers(
    installation: dict[str, str],
) -> None:
    commands = {
        "/reports/today?format=misp": ["export", "today", "--format", "misp"],
        "/reports/today?format=stix": ["export", "today", "--format", "stix"],
        "/reports/today?format=csv&bom=true&include_flagged=true": [
            *("export", "today", "--format", "csv", "--bom", "--include-flagged"),
        ],
        "/blocklist/url.txt?days=1": ["blocklist", "url", "--days", "1"],
    }
    printed = {path: _output(args, installation) for path, args in commands.items()}
    settings = Settings(
        _env_file=None,
        database_url=installation["SECDIGEST_DATABASE_URL"],
        feed_schedule=False,
    )
    application = create_app(settings)

    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            for path, output in printed.items():
                answered = await client.get(path)
                assert answered.status_code == 200, answered.text
                assert answered.content == output, path

    assert printed["/blocklist/url.txt?days=1"] == b"update-check.top/gate.php?id=1\n"
    assert printed["/reports/today?format=csv&bom=true&include_flagged=true"].startswith(
        b"\xef\xbb\xbfdate,type,value,defanged,flags,title,source_url,section\r\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["export", "2020-01-01", "--format", "misp"],
            "not-found: there is no report for 2020-01-01",
        ),
        (["blocklist", "email"], "not-found: no blocklist of type 'email'"),
    ],
)
def test_a_failed_export_is_one_line_on_stderr_and_exit_1(
    installation: dict[str, str], args: list[str], message: str
) -> None:
    done = run_cli(args, installation)

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"secdigest: {message}")
    assert done.stderr.count("\n") == 1
