"""GET /reports/{date}?format=html (or a browser's Accept): one page, its policy and headers,
ETags and 304s through the read cache, and links to the days around it that stay fresh."""

from __future__ import annotations

import asyncio
import gzip
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.services.pages import CONTENT_SECURITY_POLICY
from app.settings import Settings
from app.state import AppState
from tests.support.processes import cli_env, run_cli

DAY = "2024-12-06"
MD = {"Content-Type": "text/markdown"}
HTML = {"format": "html"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
TITLE = "米国組織、4ヶ月間にわたり中国のハッカーによる侵入被害"
_NEIGHBOURS = re.compile(r'rel="(prev|next)" href="([^"]*)"')


async def _import(client: httpx.AsyncClient, markdown: str, day: str = DAY) -> None:
    response = await client.put(f"/reports/{day}", content=markdown.encode(), headers=MD)
    assert response.status_code == 200, response.text


def _neighbours(page: httpx.Response) -> dict[str, str]:
    return dict(_NEIGHBOURS.findall(page.text))


def _assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["etag"].startswith('W/"')


async def test_format_html_answers_the_page_with_its_policy(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)

    page = await client.get(f"/reports/{DAY}", params=HTML)

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    _assert_page_headers(page)
    assert page.headers["cache-control"] == "private, no-cache"
    assert page.text.startswith("<!DOCTYPE html>")
    assert f"<bdi>{TITLE}</bdi>" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (BROWSER, "text/html; charset=utf-8"),
        ("text/html", "text/html; charset=utf-8"),
        ("*/*", "application/json"),
        (None, "application/json"),
        ("application/json, text/html", "application/json"),
        ("text/html;q=0, application/json", "application/json"),
        ("text/markdown, text/html", "text/markdown; charset=utf-8"),
    ],
)
async def test_a_browser_gets_the_page_and_curl_keeps_json(
    client: httpx.AsyncClient, sample_markdown: str, accept: str | None, media_type: str
) -> None:
    await _import(client, sample_markdown)
    headers = {"Accept": accept} if accept else {}

    first = await client.get(f"/reports/{DAY}", headers=headers)
    cached = await client.get(f"/reports/{DAY}", headers=headers)

    for response in (first, cached):
        assert response.status_code == 200
        assert response.headers["content-type"] == media_type
    assert first.content == cached.content


async def test_the_etag_gives_a_304_with_the_same_headers_and_the_cache_the_same_page(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    first = await client.get(f"/reports/{DAY}", params=HTML)
    etag = first.headers["etag"]

    again = await client.get(f"/reports/{DAY}", params=HTML)
    browser = await client.get(f"/reports/{DAY}", headers={"Accept": BROWSER})
    revalidated = await client.get(
        f"/reports/{DAY}", headers={"Accept": BROWSER, "If-None-Match": etag}
    )

    # Cached reads of the page go through the route, which sends its policy every time.
    for response in (again, browser, revalidated):
        _assert_page_headers(response)
    assert (again.content, again.headers["etag"]) == (first.content, etag)
    assert browser.headers["etag"] == etag
    assert (revalidated.status_code, revalidated.content) == (304, b"")
    # Each representation has its own tag.
    other = [
        (await client.get(f"/reports/{DAY}", params=params)).headers["etag"]
        for params in ({}, {"format": "md"}, {"format": "html", "lang": "en"})
    ]
    assert len({etag, *other}) == 4


async def test_head_answers_the_pages_headers_without_a_body(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    get = await client.get(f"/reports/{DAY}", params=HTML)

    head = await client.head(f"/reports/{DAY}", params=HTML)

    assert (head.status_code, head.content) == (200, b"")
    _assert_page_headers(head)
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]


async def test_an_edit_of_the_day_changes_the_page(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    old = await client.get(f"/reports/{DAY}", params=HTML)
    item_id = (await client.get(f"/reports/{DAY}")).json()["sections"][4]["items"][0]["id"]

    patched = await client.patch(f"/reports/{DAY}/items/{item_id}", json={"title": "<Renamed>"})
    assert patched.status_code == 200, patched.text
    fresh = await client.get(
        f"/reports/{DAY}", params=HTML, headers={"If-None-Match": old.headers["etag"]}
    )

    assert fresh.status_code == 200
    assert "<bdi>&lt;Renamed&gt;</bdi>" in fresh.text
    assert TITLE not in fresh.text


async def test_the_page_links_the_nearest_days_that_have_a_report(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    for day in ("2024-12-01", "2024-12-05", DAY, "2024-12-09", "2024-12-20"):
        await _import(client, sample_markdown, day=day)

    middle = await client.get(f"/reports/{DAY}", params=HTML)
    first = await client.get("/reports/2024-12-01", params=HTML)
    latest = await client.get("/reports/latest", params=HTML)

    assert _neighbours(middle) == {
        "prev": "2024-12-05?format=html",
        "next": "2024-12-09?format=html",
    }
    assert _neighbours(first) == {"next": "2024-12-05?format=html"}
    assert _neighbours(latest) == {"prev": "2024-12-09?format=html"}
    assert '<time datetime="2024-12-20">' in latest.text


async def test_an_alone_day_has_no_links_to_other_days(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    page = await client.get(f"/reports/{DAY}", params=HTML)
    assert _neighbours(page) == {}
    assert "<nav" not in page.text


async def test_a_new_earlier_day_written_later_changes_the_cached_page(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    cached = await client.get(f"/reports/{DAY}", params=HTML)
    etag = cached.headers["etag"]
    assert (
        await client.get(f"/reports/{DAY}", params=HTML, headers={"If-None-Match": etag})
    ).status_code == 304

    await _import(client, sample_markdown, day="2024-12-03")
    fresh = await client.get(f"/reports/{DAY}", params=HTML, headers={"If-None-Match": etag})

    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert _neighbours(fresh) == {"prev": "2024-12-03?format=html"}


async def test_a_day_written_by_another_process_changes_the_cached_page(
    client: httpx.AsyncClient, settings: Settings, sample_markdown: str, tmp_path: Path
) -> None:
    await _import(client, sample_markdown)
    cached = await client.get(f"/reports/{DAY}", params=HTML)
    source = tmp_path / "day.md"
    source.write_text(sample_markdown, encoding="utf-8")

    imported = await asyncio.to_thread(
        run_cli,
        ["import", str(source), "--date", "2024-12-07"],
        cli_env(tmp_path, SECDIGEST_DATABASE_URL=settings.database_url),
    )
    assert imported.returncode == 0, imported.stderr
    fresh = await client.get(
        f"/reports/{DAY}", params=HTML, headers={"If-None-Match": cached.headers["etag"]}
    )

    assert fresh.status_code == 200
    assert _neighbours(fresh) == {"next": "2024-12-07?format=html"}


class _BrokenClock:
    """A change clock whose database cannot answer."""

    async def now(self) -> int:
        raise OSError("the clock's connection is gone")

    async def close(self) -> None:
        return None


async def test_without_a_clock_the_page_is_rendered_fresh_and_never_a_304(
    app: FastAPI, client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    state: AppState = app.state.secdigest
    working = state.reports.clock
    state.reports.clock = _BrokenClock()
    try:
        first = await client.get(f"/reports/{DAY}", params=HTML)
        await _import(client, sample_markdown, day="2024-12-01")
        second = await client.get(
            f"/reports/{DAY}", params=HTML, headers={"If-None-Match": first.headers["etag"]}
        )
    finally:
        state.reports.clock = working

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["etag"] != first.headers["etag"]
    assert _neighbours(first) == {}
    assert _neighbours(second) == {"prev": "2024-12-01?format=html"}


async def test_gzip_when_asked_and_the_same_page_inside(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)
    plain = await client.get(
        f"/reports/{DAY}", params=HTML, headers={"Accept-Encoding": "identity"}
    )
    async with client.stream(
        "GET", f"/reports/{DAY}", params=HTML, headers={"Accept-Encoding": "gzip"}
    ) as compressed:
        raw = b"".join([chunk async for chunk in compressed.aiter_raw()])

    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert gzip.decompress(raw) == plain.content


async def test_new_only_is_refused_for_the_page_and_a_missing_day_is_a_404(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await _import(client, sample_markdown)

    refused = await client.get(f"/reports/{DAY}", params={**HTML, "new_only": "true"})
    missing = await client.get("/reports/2024-12-07", params=HTML)
    unknown = await client.get(f"/reports/{DAY}", params={"format": "htm"})

    assert refused.status_code == 422
    assert "new_only" in refused.json()["detail"]
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert unknown.status_code == 406  # not-acceptable: a format the day has not
