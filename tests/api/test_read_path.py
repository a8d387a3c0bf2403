"""The read path: ETags and 304s, a revision that every write moves, fresh across processes,
gzip, HEAD, and reads that never wait for SQLite's write lock."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from redis.asyncio import Redis

from app.db import session_scope
from app.main import create_app
from app.models import Report
from app.services import apikeys
from app.services.markdown import labels_for
from app.services.reports.cache import REDIS_PREFIX
from app.settings import Settings
from app.state import AppState
from tests.support.databases import empty_all_tables, migrated_database
from tests.support.processes import cli_env, run_cli

DAY = "2024-12-06"
MD = {"Content-Type": "text/markdown"}


async def _import(client: httpx.AsyncClient, markdown: str, day: str = DAY) -> None:
    response = await client.put(f"/reports/{day}", content=markdown.encode(), headers=MD)
    assert response.status_code == 200, response.text


async def _revision(app: FastAPI, day: str = DAY) -> tuple[int, str]:
    state: AppState = app.state.secdigest
    async with state.engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(Report.revision, Report.change_token).where(
                    Report.day == date.fromisoformat(day)
                )
            )
        ).one()
    return int(row[0]), str(row[1])


# ---------------------------------------------------------------------------- validators


async def test_a_day_answers_validators_and_a_304_while_it_is_unchanged(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)

    first = await client.get(f"/reports/{DAY}")
    etag = first.headers["etag"]
    again = await client.get(f"/reports/{DAY}", headers={"If-None-Match": etag})
    listed = await client.get(f"/reports/{DAY}", headers={"If-None-Match": f'"x", {etag}'})

    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.headers["vary"] == "Accept, Accept-Encoding"
    assert first.headers["last-modified"].endswith(" GMT")
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag
    assert listed.status_code == 304
    # Each representation has its own tag.
    markdown = await client.get(f"/reports/{DAY}", params={"format": "md"})
    english = await client.get(f"/reports/{DAY}", params={"lang": "en"})
    assert len({etag, markdown.headers["etag"], english.headers["etag"]}) == 3


async def test_a_change_gives_a_new_etag_and_the_old_one_a_full_answer(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    old = await client.get(f"/reports/{DAY}")
    item_id = old.json()["sections"][4]["items"][0]["id"]

    patched = await client.patch(f"/reports/{DAY}/items/{item_id}", json={"title": "Renamed"})
    assert patched.status_code == 200, patched.text
    fresh = await client.get(f"/reports/{DAY}", headers={"If-None-Match": old.headers["etag"]})

    assert fresh.status_code == 200
    assert fresh.headers["etag"] != old.headers["etag"]
    assert fresh.json()["sections"][4]["items"][0]["title"] == "Renamed"
    assert (
        await client.get(f"/reports/{DAY}", headers={"If-None-Match": fresh.headers["etag"]})
    ).status_code == 304


async def test_the_list_of_days_has_an_etag_that_a_new_day_changes(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    first = await client.get("/reports")
    assert (
        await client.get("/reports", headers={"If-None-Match": first.headers["etag"]})
    ).status_code == 304

    await _import(client, sample_markdown, day="2024-12-07")
    second = await client.get("/reports", headers={"If-None-Match": first.headers["etag"]})

    assert second.status_code == 200
    assert [d["date"] for d in second.json()["reports"]] == ["2024-12-07", DAY]


async def test_gzip_when_asked_and_the_same_json_inside(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    plain = await client.get(f"/reports/{DAY}", headers={"Accept-Encoding": "identity"})
    raw: list[bytes] = []
    async with client.stream(
        "GET", f"/reports/{DAY}", headers={"Accept-Encoding": "gzip"}
    ) as compressed:
        assert compressed.headers["content-encoding"] == "gzip"
        raw.extend([chunk async for chunk in compressed.aiter_raw()])

    assert "content-encoding" not in plain.headers
    assert json.loads(gzip.decompress(b"".join(raw))) == plain.json()
    assert len(b"".join(raw)) < len(plain.content) / 2
    refused = await client.get(f"/reports/{DAY}", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


async def test_head_answers_the_headers_of_get_without_a_body(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    get = await client.get(f"/reports/{DAY}")

    for path in (f"/reports/{DAY}", "/reports", "/healthz"):
        head = await client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
    head = await client.head(f"/reports/{DAY}")
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_bad_parameters_are_the_routes_problems_not_a_cached_answer(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    await client.get(f"/reports/{DAY}")  # cached now

    for params, status in (({"lang": "fr"}, 422), ({"lang": ""}, 422), ({"format": "xml"}, 406)):
        answer = await client.get(f"/reports/{DAY}", params=params)
        assert answer.status_code == status, params
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get("/reports/2024-13-01")).status_code == 422
    assert (await client.get("/reports/2023-01-01")).status_code == 404


# ---------------------------------------------------------------------------- every write


def _item(state: dict[str, Any]) -> str:
    return f"/reports/{DAY}/items/{state['item']}"


# How each route that can change a day changes it. A write route missing from both tables
# fails the test below: a new route must say whether it changes a report (and then it is
# shown to move the revision) or not.
WRITES: dict[tuple[str, str], Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[Any]]] = {
    ("PUT", "/reports/{day}"): lambda c, s: c.put(
        f"/reports/{DAY}", content=s["markdown"].encode(), headers=MD
    ),
    ("POST", "/reports/{day}/items"): lambda c, s: c.post(
        f"/reports/{DAY}/items",
        json={"kind": "link", "title": "A memo", "url": "https://memo.example/1"},
    ),
    ("PATCH", "/reports/{day}/items/{item_id}"): lambda c, s: c.patch(
        _item(s), json={"summary": ["Edited."]}
    ),
    ("DELETE", "/reports/{day}/items/{item_id}"): lambda c, s: c.delete(_item(s)),
    ("POST", "/summarize"): lambda c, s: c.post(
        "/summarize",
        json={"text": "A new loader calls hxxps://evil[.]com/gate from macros. " * 4, "date": DAY},
    ),
}
# Routes that write, but no report: their effect on a day, if any, goes through one above
# (a feed's items are summarized as the jobs of POST /summarize are).
NOT_REPORT_WRITES = {
    ("POST", "/iocs"),
    ("POST", "/indicators/lookup"),
    ("POST", "/feeds"),
    ("DELETE", "/feeds/{feed_id}"),
    ("POST", "/feeds/pull"),
    # A publication is a row of its own: the day it publishes is unchanged.
    ("POST", "/reports/{day}/publish"),
    ("POST", "/webhooks"),
    ("DELETE", "/webhooks/{webhook_id}"),
    ("POST", "/webhooks/{webhook_id}/test"),
}


def test_every_write_route_is_known_to_change_a_report_or_not(app: FastAPI) -> None:
    # Every route of the API, as its OpenAPI description lists them.
    writes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method not in ("get", "head", "parameters")
    }
    assert writes == set(WRITES) | NOT_REPORT_WRITES


@pytest.mark.parametrize("route", list(WRITES), ids=[f"{m} {p}" for m, p in WRITES])
async def test_every_write_route_moves_the_revision(
    app: FastAPI, client: httpx.AsyncClient, sample_markdown: str, route: tuple[str, str]
) -> None:
    await _import(client, sample_markdown)
    before = await client.get(f"/reports/{DAY}")
    revision, token = await _revision(app)
    state = {"markdown": sample_markdown, "item": before.json()["sections"][4]["items"][0]["id"]}

    response = await WRITES[route](client, state)

    assert response.status_code < 300, response.text
    moved, new_token = await _revision(app)
    assert moved > revision
    assert new_token != token
    after = await client.get(f"/reports/{DAY}", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200


# ---------------------------------------------------------------------------- other processes


@pytest.fixture
async def second_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """Another instance of the service on the same database: its own caches and clock."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_write_through_another_instance_makes_the_next_read_fresh(
    client: httpx.AsyncClient, second_app: FastAPI, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    cached = await client.get(f"/reports/{DAY}", params={"format": "md"})
    transport = httpx.ASGITransport(app=second_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as other:
        item_id = (await other.get(f"/reports/{DAY}")).json()["sections"][4]["items"][0]["id"]
        patched = await other.patch(
            f"/reports/{DAY}/items/{item_id}", json={"title": "Written next door"}
        )
        assert patched.status_code == 200, patched.text

    fresh = await client.get(f"/reports/{DAY}", params={"format": "md"})

    assert "#### Written next door" in fresh.text
    assert fresh.headers["etag"] != cached.headers["etag"]


async def test_a_write_by_another_process_makes_the_next_read_fresh(
    client: httpx.AsyncClient, settings: Settings, sample_markdown: str, tmp_path: Path
) -> None:
    await _import(client, sample_markdown)
    cached = await client.get(f"/reports/{DAY}")
    days = await client.get("/reports")
    replacement = sample_markdown.replace(
        "米国組織、4ヶ月間にわたり中国のハッカーによる侵入被害", "別のプロセスが書いた見出し"
    )
    source = tmp_path / "day.md"
    source.write_text(replacement, encoding="utf-8")

    imported = await asyncio.to_thread(
        run_cli,
        ["import", str(source), "--date", DAY],
        cli_env(tmp_path, SECDIGEST_DATABASE_URL=settings.database_url),
    )
    assert imported.returncode == 0, imported.stderr
    fresh = await client.get(f"/reports/{DAY}", headers={"If-None-Match": cached.headers["etag"]})

    assert fresh.status_code == 200
    titles = [i["title"] for s in fresh.json()["sections"] for i in s["items"]]
    assert "別のプロセスが書いた見出し" in titles
    assert (await client.get("/reports")).json() == days.json()  # same days, same counts


# ---------------------------------------------------------------------------- SQLite's lock


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite file of its own (this test is about SQLite's lock)."""
    with migrated_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
async def sqlite_app(sqlite_url: str, settings: Settings) -> AsyncIterator[FastAPI]:
    """The service on that file."""
    application = create_app(settings.model_copy(update={"database_url": sqlite_url}))
    async with application.router.lifespan_context(application):
        yield application


async def test_reads_go_on_while_a_write_holds_sqlites_lock(
    sqlite_app: FastAPI, sample_markdown: str
) -> None:
    transport = httpx.ASGITransport(app=sqlite_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        await _import(client, sample_markdown)
        url = sqlite_app.state.secdigest.settings.database_url
        writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # the write lock, held
            writer.execute("UPDATE report_items SET title = title || ' (editing)'")
            # Nothing cached yet for these: each needs the database. A read that took the
            # write lock would wait out the busy timeout and fail ("database is locked").
            reads = await asyncio.gather(
                client.get(f"/reports/{DAY}"),
                client.get(f"/reports/{DAY}", params={"format": "md", "lang": "en"}),
                client.get("/reports"),
            )
        finally:
            writer.execute("ROLLBACK")
            writer.close()
    assert [r.status_code for r in reads] == [200, 200, 200]
    assert "(editing)" not in reads[0].text  # the committed state, not the writer's


# ---------------------------------------------------------------------------- Redis


@pytest.fixture
def redis_url() -> str:
    """A Redis database of this machine (CI's has one) for the shared cache."""
    return os.environ.get("SECDIGEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def test_processes_share_rendered_days_through_redis(
    settings: Settings, redis_url: str, sample_markdown: str
) -> None:
    shared = settings.model_copy(update={"cache_url": redis_url})
    first, second = create_app(shared), create_app(shared)
    async with (
        first.router.lifespan_context(first),
        second.router.lifespan_context(second),
    ):
        await empty_all_tables(first.state.secdigest.engine)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first), base_url="http://localhost"
        ) as one:
            await _import(one, sample_markdown)
            rendered = await one.get(f"/reports/{DAY}")
        reads = second.state.secdigest.reports
        representation = await reads.day_representation(
            DAY, tz=shared.tz, markdown=False, lang="ja", labels=labels_for("ja")
        )
        client = Redis.from_url(redis_url)
        try:
            stored = await client.get(REDIS_PREFIX + representation.key)
            assert stored == rendered.content  # what the first process rendered
            # The second process answers what Redis holds for that state.
            await client.set(REDIS_PREFIX + representation.key, b'{"from": "redis"}')
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=second), base_url="http://localhost"
            ) as two:
                answered = await two.get(f"/reports/{DAY}", headers={"Accept-Encoding": "identity"})
        finally:
            await client.delete(
                REDIS_PREFIX + representation.key, REDIS_PREFIX + representation.key + ":gzip"
            )
            await client.aclose()
    assert answered.json() == {"from": "redis"}
    assert answered.headers["etag"] == rendered.headers["etag"]


async def test_a_cached_day_is_served_only_to_callers_the_key_check_lets_in(
    app: FastAPI, client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        key = (await apikeys.create_key(session, name="frontend", scope="read")).key
    bearer = {"Authorization": f"Bearer {key}"}
    assert (await client.get(f"/reports/{DAY}", headers=bearer)).status_code == 200  # cached

    refused = await client.get(f"/reports/{DAY}")
    revoked_etag = (await client.get("/reports", headers=bearer)).headers["etag"]
    async with session_scope(state.sessionmaker) as session:
        await apikeys.revoke_key(session, name="frontend")
    after_revoke = await client.get(f"/reports/{DAY}", headers=bearer)
    listed = await client.get("/reports", headers={**bearer, "If-None-Match": revoked_etag})

    assert refused.status_code == 401
    assert after_revoke.status_code == 401
    assert listed.status_code == 401
