"""`secdigest seen VALUE`: an indicator's sightings as JSON, exit 1 when never seen."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.support.databases import backends, migrated_database
from tests.support.processes import cli_env, run_cli

DIGEST = """\
# Daily Security Info

### 日々のニュース要約

#### Ember Lynx targets logistics firms
https://news.example.com/ember-lynx

- 要約
    - A campaign against logistics firms.
- IOCの列挙
    - update-check[.]top
- 推奨事項
    - 推奨事項なし
- その他
    - なし
- ChatGPTの推奨事項
    - 推奨事項なし
"""
DAYS = ("2024-12-05", "2024-12-06")


@pytest.fixture(scope="module", params=backends())
def installation(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """An installation whose reports of two days list update-check[.]top."""
    tmp_path = tmp_path_factory.mktemp(f"seen-cli-{request.param}")
    with migrated_database(request.param, tmp_path) as url:
        settings = Settings(_env_file=None, database_url=url, feed_schedule=False)

        async def store() -> None:
            application = create_app(settings)
            async with application.router.lifespan_context(application):
                transport = httpx.ASGITransport(app=application)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://localhost"
                ) as client:
                    for day in DAYS:
                        response = await client.put(
                            f"/reports/{day}",
                            content=DIGEST.encode(),
                            headers={"Content-Type": "text/markdown"},
                        )
                        assert response.status_code == 200, response.text

        asyncio.run(store())
        # Migrated above: each command starts without checking again.
        yield cli_env(tmp_path, SECDIGEST_DATABASE_URL=url, SECDIGEST_AUTO_MIGRATE="false")


def test_seen_prints_the_sightings_of_a_value_in_any_form(
    installation: dict[str, str],
) -> None:
    done = run_cli(["seen", "UPDATE-CHECK[.]TOP."], installation)

    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert (body["type"], body["value"], body["count"]) == ("domain", "update-check.top", 2)
    assert (body["first_seen"], body["last_seen"]) == DAYS
    assert [s["date"] for s in body["sightings"]] == list(reversed(DAYS))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("never-seen[.]example.org", "secdigest: not-found: domain 'never-seen.example.org'"),
        ("not an indicator", "secdigest: invalid-request: 'not an indicator'"),
    ],
)
def test_seen_says_why_on_one_line_and_exits_1(
    installation: dict[str, str], value: str, message: str
) -> None:
    done = run_cli(["seen", value], installation)

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(message)
    assert done.stderr.count("\n") == 1
