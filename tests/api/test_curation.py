"""Curating a report: add a URL or a link, edit, move, reorder, remove; Markdown follows."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db import session_scope
from app.services import apikeys
from app.services.markdown import parse_report
from app.state import AppState
from tests.support.site import FixtureSite, Route, SiteServer

DAY = "2024-12-06"
ITEMS = f"/reports/{DAY}/items"
MD = {"Content-Type": "text/markdown"}
ENGLISH = "/news/english-news.html"
ENGLISH_TITLE = "Ember Lynx Targets Logistics Firms With Fake Update Lures"
PROBLEM = "application/problem+json"
STORIES = Path(__file__).resolve().parent.parent / "fixtures" / "dedupe" / "articles"


def story_page(name: str) -> Route:
    """A dedupe fixture article (title, blank line, paragraphs) as a news page."""
    title, _, body = (STORIES / f"{name}.txt").read_text(encoding="utf-8").partition("\n\n")
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n") if p.strip())
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body><article><h1>{html.escape(title)}</h1>{paragraphs}</article>"
        "</body></html>"
    )
    return Route(body=page.encode("utf-8"))


@pytest.fixture
def story_sites(site: FixtureSite) -> Iterator[tuple[str, str]]:
    """One story told by two sites (two origins): the URL on each."""
    site.routes["/curation/halvorsen.html"] = story_page("hospital-ransomware-a")
    with SiteServer({"/2026/halvorsen/": story_page("hospital-ransomware-b")}) as other:
        yield site.url("/curation/halvorsen.html"), other.url("/2026/halvorsen/")
    site.routes.pop("/curation/halvorsen.html", None)


def link(n: int, section: str = "memos", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "link",
        "title": f"Link {n}",
        "url": f"https://news.example.org/{n}",
        "section": section,
        **extra,
    }


async def markdown(client: httpx.AsyncClient) -> str:
    response = await client.get(f"/reports/{DAY}", params={"format": "md"})
    assert response.status_code == 200, response.text
    return response.text


async def section_of(client: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
    report = (await client.get(f"/reports/{DAY}")).json()
    return next(s["items"] for s in report["sections"] if s["key"] == key)


async def positions(client: httpx.AsyncClient, ids: list[int]) -> list[int]:
    return [(await client.get(f"{ITEMS}/{i}")).json()["position"] for i in ids]


def section_block(text: str, heading: str) -> str:
    """The lines of one section of a rendered digest, heading excluded."""
    start = text.index(f"### {heading}\n") + len(heading) + 5
    end = text.find("\n### ", start)
    return text[start : end if end != -1 else len(text)]


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body


async def test_link_item_is_created_with_location_and_renders_in_its_section(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(ITEMS, json=link(1, "japan_incidents"))

    assert response.status_code == 201, response.text
    item = response.json()
    assert response.headers["location"] == f"{ITEMS}/{item['id']}"
    assert item["kind"] == "link"
    assert (item["section"], item["position"], item["date"]) == ("japan_incidents", 0, DAY)
    assert (await client.get(response.headers["location"])).json() == item
    assert section_block(await markdown(client), "日本のインシデント事例") == (
        "- [Link 1](https://news.example.org/1)\n"
    )
    assert [i["id"] for i in await section_of(client, "japan_incidents")] == [item["id"]]


async def test_link_in_an_article_section_is_a_link_line_there_and_survives_import(
    client: httpx.AsyncClient,
) -> None:
    await client.put(
        f"/reports/{DAY}",
        content=b"# Daily Security Info\n\n### Tools\n\n#### A tool\nhttps://tools.example/a\n"
        b"\n- \xe8\xa6\x81\xe7\xb4\x84\n    - It scans.\n",
        headers=MD,
    )

    response = await client.post(ITEMS, json=link(7, "tools"))

    assert response.status_code == 201, response.text
    rendered = await markdown(client)
    tools = section_block(rendered, "Tools")
    assert tools.startswith("\n#### A tool\nhttps://tools.example/a\n")
    assert tools.endswith("\n\n- [Link 7](https://news.example.org/7)\n")
    # The format's one parser reads it back as the same two items.
    parsed = parse_report(rendered)
    assert [(i.kind.value, i.title) for i in parsed.section_items(parsed.items[0].section)] == [
        ("article", "A tool"),
        ("link", "Link 7"),
    ]


async def test_url_is_summarized_into_the_section_asked(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post(ITEMS, json={"url": site.url(ENGLISH), "section": "tools"})

    assert response.status_code == 201, response.text
    item = response.json()
    assert item["kind"] == "article"
    assert (item["section"], item["position"]) == ("tools", 0)
    assert item["title"] == ENGLISH_TITLE
    assert item["article_id"] is not None
    assert ("ipv4", "45.137.21.9") in {(i["type"], i["value"]) for i in item["iocs"]}
    tools = section_block(await markdown(client), "Tools")
    assert tools.startswith(f"\n#### {ENGLISH_TITLE}\n{site.url(ENGLISH)}\n")
    assert "45.137.21[.]9" in tools


async def test_adding_a_url_already_in_the_report_is_a_conflict(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    first = (await client.post(ITEMS, json={"url": site.url(ENGLISH)})).json()

    again = await client.post(ITEMS, json={"url": site.url(ENGLISH) + "?utm_source=x"})
    as_link = await client.post(
        ITEMS, json={"kind": "link", "title": "t", "url": site.url(ENGLISH), "section": "memos"}
    )

    for response in (again, as_link):
        body = assert_problem(response, 409, "conflict")
        assert body["item_id"] == first["id"]
    report = (await client.get(f"/reports/{DAY}")).json()
    assert report["item_count"] == 1


async def test_racing_adds_of_one_url_give_one_item_and_conflicts(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    responses = await asyncio.gather(
        *(client.post(ITEMS, json={"url": site.url(ENGLISH)}) for _ in range(4))
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    created = next(r.json() for r in responses if r.status_code == 201)
    assert {r.json().get("item_id") for r in responses if r.status_code == 409} == {created["id"]}
    assert (await client.get(f"/reports/{DAY}")).json()["item_count"] == 1


async def test_the_same_story_from_another_site_joins_the_entry_as_a_source(
    client: httpx.AsyncClient, story_sites: tuple[str, str]
) -> None:
    first_url, second_url = story_sites
    first = await client.post(ITEMS, json={"url": first_url, "section": "security_report"})
    assert first.status_code == 201, first.text

    second = await client.post(ITEMS, json={"url": second_url, "section": "tools"})

    assert second.status_code == 200, second.text
    entry = second.json()
    assert (entry["id"], entry["section"]) == (first.json()["id"], "security_report")
    assert [s["url"] for s in entry["sources"]] == [first_url, second_url]
    assert (await client.get(f"/reports/{DAY}")).json()["item_count"] == 1
    # Posting either URL again is a conflict: both are in the report now.
    again = await client.post(ITEMS, json={"url": second_url})
    assert assert_problem(again, 409, "conflict")["item_id"] == entry["id"]


async def test_a_url_summarized_elsewhere_can_join_another_day(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    await client.post("/summarize", json={"url": site.url(ENGLISH), "date": "2024-12-05"})

    response = await client.post(ITEMS, json={"url": site.url(ENGLISH), "section": "memos"})

    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "link"  # an article in a link section is listed as one
    assert section_block(await markdown(client), "その他のメモ") == (
        f"- [{ENGLISH_TITLE}]({site.url(ENGLISH)})\n"
    )


async def test_a_page_that_fails_adds_nothing(client: httpx.AsyncClient, site: FixtureSite) -> None:
    await client.post(ITEMS, json=link(1))

    response = await client.post(ITEMS, json={"url": site.url("/missing")})

    assert_problem(response, 502, "fetch-failed")
    assert (await client.get(f"/reports/{DAY}")).json()["item_count"] == 1


async def test_editing_text_shows_at_once_in_markdown_and_json(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    item = (await client.post(ITEMS, json={"url": site.url(ENGLISH)})).json()

    response = await client.patch(
        f"{ITEMS}/{item['id']}",
        json={
            "title": "Ember Lynx hits freight firms",
            "summary": ["Fake update lures.", "PalletRAT installed."],
            "recommendations": ["Patch CVE-2024-38077."],
            "other": [],
            "model_recommendations": ["Watch for wscript.exe."],
        },
    )

    assert response.status_code == 200, response.text
    assert response.json()["summary"] == ["Fake update lures.", "PalletRAT installed."]
    block = section_block(await markdown(client), "日々のニュース要約")
    assert block.startswith(f"\n#### Ember Lynx hits freight firms\n{site.url(ENGLISH)}\n")
    assert "- 要約\n    - Fake update lures.\n    - PalletRAT installed.\n" in block
    assert "- 推奨事項\n    - Patch CVE-2024-38077.\n" in block
    assert "- その他\n    - なし\n" in block
    assert "    - Watch for wscript.exe.\n" in block
    assert (await section_of(client, "daily_news"))[0]["title"] == "Ember Lynx hits freight firms"


async def test_iocs_can_be_removed_but_never_added(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    item = (await client.post(ITEMS, json={"url": site.url(ENGLISH)})).json()
    values = {i["value"] for i in item["iocs"]}
    assert {"45.137.21.9", "evil-cdn.com"} <= values
    kept = [i for i in item["iocs"] if i["value"] != "45.137.21.9"]

    added = await client.patch(
        f"{ITEMS}/{item['id']}", json={"iocs": [*kept, {"type": "ipv4", "value": "6.6.6.6"}]}
    )
    removed = await client.patch(f"{ITEMS}/{item['id']}", json={"iocs": kept})

    body = assert_problem(added, 422, "invalid-request")
    assert "6.6.6.6" in body["detail"]
    assert removed.status_code == 200, removed.text
    assert {i["value"] for i in removed.json()["iocs"]} == values - {"45.137.21.9"}
    rendered = await markdown(client)
    assert "45.137.21[.]9" not in rendered
    assert "evil-cdn[.]com" in rendered


async def test_moving_an_article_to_a_link_section_and_back(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    item = (await client.post(ITEMS, json={"url": site.url(ENGLISH)})).json()
    memo = (await client.post(ITEMS, json=link(1))).json()

    to_memos = await client.patch(f"{ITEMS}/{item['id']}", json={"section": "memos"})

    assert to_memos.status_code == 200, to_memos.text
    assert (to_memos.json()["kind"], to_memos.json()["position"]) == ("link", 1)
    rendered = await markdown(client)
    assert section_block(rendered, "日々のニュース要約") == "N/A\n"
    assert section_block(rendered, "その他のメモ") == (
        f"- [Link 1](https://news.example.org/1)\n- [{ENGLISH_TITLE}]({site.url(ENGLISH)})\n"
    )

    back = await client.patch(
        f"{ITEMS}/{item['id']}", json={"section": "security_report", "position": 0}
    )

    assert (back.json()["kind"], back.json()["section"]) == ("article", "security_report")
    rendered = await markdown(client)
    assert section_block(rendered, "security report").startswith(f"\n#### {ENGLISH_TITLE}\n")
    assert section_block(rendered, "その他のメモ") == "- [Link 1](https://news.example.org/1)\n"
    assert await positions(client, [memo["id"]]) == [0]


async def test_reorder_shifts_the_others_and_keeps_positions_dense(
    client: httpx.AsyncClient,
) -> None:
    ids = [(await client.post(ITEMS, json=link(n))).json()["id"] for n in range(4)]

    moved = await client.patch(f"{ITEMS}/{ids[3]}", json={"position": 1})

    assert moved.status_code == 200, moved.text
    assert await positions(client, ids) == [0, 2, 3, 1]
    assert section_block(await markdown(client), "その他のメモ") == "".join(
        f"- [Link {n}](https://news.example.org/{n})\n" for n in (0, 3, 1, 2)
    )
    down = await client.patch(f"{ITEMS}/{ids[0]}", json={"position": 3})
    assert down.status_code == 200, down.text
    assert await positions(client, ids) == [3, 1, 2, 0]


async def test_a_link_can_be_inserted_at_a_position(client: httpx.AsyncClient) -> None:
    ids = [(await client.post(ITEMS, json=link(n))).json()["id"] for n in range(3)]

    first = await client.post(ITEMS, json=link(9, position=0))

    assert first.json()["position"] == 0
    assert await positions(client, ids) == [1, 2, 3]
    assert section_block(await markdown(client), "その他のメモ").startswith(
        "- [Link 9](https://news.example.org/9)\n- [Link 0]"
    )


async def test_delete_answers_204_and_the_others_close_the_gap(
    client: httpx.AsyncClient,
) -> None:
    ids = [(await client.post(ITEMS, json=link(n))).json()["id"] for n in range(3)]

    response = await client.delete(f"{ITEMS}/{ids[0]}")

    assert response.status_code == 204
    assert response.content == b""
    assert await positions(client, ids[1:]) == [0, 1]
    assert "Link 0" not in await markdown(client)
    assert_problem(await client.get(f"{ITEMS}/{ids[0]}"), 404, "not-found")
    assert_problem(await client.delete(f"{ITEMS}/{ids[0]}"), 404, "not-found")


async def test_a_link_item_can_change_its_url_and_title(client: httpx.AsyncClient) -> None:
    item = (await client.post(ITEMS, json=link(1))).json()

    response = await client.patch(
        f"{ITEMS}/{item['id']}", json={"title": "Better", "url": "https://b.example/x"}
    )

    assert response.status_code == 200, response.text
    assert section_block(await markdown(client), "その他のメモ") == (
        "- [Better](https://b.example/x)\n"
    )


async def test_unknown_day_or_item_is_not_found(client: httpx.AsyncClient) -> None:
    item = (await client.post(ITEMS, json=link(1))).json()

    assert_problem(
        await client.patch("/reports/2020-01-01/items/1", json={"title": "x"}), 404, "not-found"
    )
    assert_problem(await client.delete("/reports/2020-01-01/items/1"), 404, "not-found")
    assert_problem(await client.get(f"{ITEMS}/{item['id'] + 1000}"), 404, "not-found")
    assert_problem(
        await client.patch(f"{ITEMS}/{item['id'] + 1000}", json={"title": "x"}), 404, "not-found"
    )
    # An item of another day is not found under this one.
    other = (await client.post("/reports/2024-12-07/items", json=link(2))).json()
    assert_problem(await client.delete(f"{ITEMS}/{other['id']}"), 404, "not-found")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"kind": "link", "title": "t", "url": "javascript:alert(1)"}, "url"),
        ({"kind": "link", "title": "t", "url": "https://u:p@a.example/"}, "url"),
        ({"kind": "link", "title": "", "url": "https://a.example/"}, "title"),
        ({"kind": "link", "title": "t" * 501, "url": "https://a.example/"}, "title"),
        ({"kind": "link", "title": "t", "url": "https://a.example/", "section": "nope"}, "section"),
        ({"kind": "link", "title": "t", "url": "https://a.example/", "summary": ["x"]}, "summary"),
        ({"kind": "video", "url": "https://a.example/"}, "kind"),
        ({"url": "https://a.example/", "position": -1}, "position"),
        ({}, "url"),
    ],
)
async def test_invalid_bodies_are_422(
    client: httpx.AsyncClient, body: dict[str, Any], where: str
) -> None:
    body = assert_problem(await client.post(ITEMS, json=body), 422, "invalid-request")
    assert where in body["detail"] or any(where in map(str, e["loc"]) for e in body["errors"])


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({}, "at least one field"),
        ({"title": None}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"other": ["bell\x07"]}, "other"),
        ({"summary": ["x" * 2001]}, "summary"),
        ({"summary": ["x"] * 51}, "summary"),
        ({"position": 5}, "position"),
        ({"section": "memos", "position": 2}, "position"),
        ({"summary": ["A link has no summary."]}, "link item"),
        ({"iocs": [{"type": "domain", "value": "evil.com"}]}, "link item"),
        ({"id": 3}, "id"),
    ],
)
async def test_invalid_patches_are_422_and_change_nothing(
    client: httpx.AsyncClient, patch: dict[str, Any], where: str
) -> None:
    item = (await client.post(ITEMS, json=link(1))).json()
    await client.post(ITEMS, json=link(2))
    before = await markdown(client)

    body = assert_problem(
        await client.patch(f"{ITEMS}/{item['id']}", json=patch), 422, "invalid-request"
    )

    assert where in body["detail"] or any(
        where in map(str, e["loc"]) for e in body.get("errors", [])
    )
    assert await markdown(client) == before


async def test_the_url_of_a_summarized_entry_cannot_change(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    item = (await client.post(ITEMS, json={"url": site.url(ENGLISH)})).json()

    response = await client.patch(f"{ITEMS}/{item['id']}", json={"url": "https://a.example/"})

    assert "cannot change" in assert_problem(response, 422, "invalid-request")["detail"]
    assert (await client.get(f"{ITEMS}/{item['id']}")).json()["url"] == site.url(ENGLISH)


async def test_parallel_reorders_leave_dense_unique_positions(
    client: httpx.AsyncClient,
) -> None:
    ids = [(await client.post(ITEMS, json=link(n))).json()["id"] for n in range(8)]
    moves = [(ids[n % 8], (n * 5) % 8) for n in range(64)]

    responses = await asyncio.gather(
        *(client.patch(f"{ITEMS}/{i}", json={"position": p}) for i, p in moves)
    )

    assert {r.status_code for r in responses} == {200}
    # Each move was applied whole, on the positions the one before it left.
    assert [r.json()["position"] for r in responses] == [p for _, p in moves]
    memos = await section_of(client, "memos")
    assert sorted(i["id"] for i in memos) == sorted(ids)
    assert sorted(await positions(client, ids)) == list(range(8))


async def test_parallel_adds_and_deletes_keep_positions_dense(client: httpx.AsyncClient) -> None:
    ids = [(await client.post(ITEMS, json=link(n))).json()["id"] for n in range(6)]

    await asyncio.gather(
        *(client.delete(f"{ITEMS}/{i}") for i in ids[::2]),
        *(client.post(ITEMS, json=link(10 + n, position=0)) for n in range(4)),
    )

    memos = await section_of(client, "memos")
    assert len(memos) == 7
    ids_now = [i["id"] for i in memos]
    assert await positions(client, ids_now) == list(range(7))


async def _key(app: FastAPI, name: str, scope: str) -> str:
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        return (await apikeys.create_key(session, name=name, scope=scope)).key


async def test_curation_needs_a_write_key(app: FastAPI, client: httpx.AsyncClient) -> None:
    item = (await client.post(ITEMS, json=link(1))).json()
    read = {"X-API-Key": await _key(app, "frontend", "read")}
    write = {"X-API-Key": await _key(app, "analyst", "write")}
    path = f"{ITEMS}/{item['id']}"

    assert_problem(await client.post(ITEMS, json=link(2)), 401, "unauthorized")
    assert_problem(await client.patch(path, json={"title": "x"}), 401, "unauthorized")
    assert_problem(await client.post(ITEMS, json=link(2), headers=read), 403, "forbidden")
    assert_problem(await client.patch(path, json={"title": "x"}, headers=read), 403, "forbidden")
    assert_problem(await client.delete(path, headers=read), 403, "forbidden")
    assert (await client.get(path, headers=read)).status_code == 200
    assert (await client.patch(path, json={"title": "x"}, headers=write)).status_code == 200
    assert (await client.delete(path, headers=write)).status_code == 204
