"""GET /indicators and POST /indicators/lookup: sightings kept in step with the report entries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.services import memory
from app.state import AppState
from tests.support.digests import import_day

PROBLEM = "application/problem+json"
DAYS = ("2024-12-04", "2024-12-05", "2024-12-06")
EVIL = "evil-cdn.com"


async def seen(client: httpx.AsyncClient, value: str, **params: Any) -> httpx.Response:
    return await client.get("/indicators", params={"value": value, **params})


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body


@pytest.fixture
async def three_days(client: httpx.AsyncClient) -> list[int]:
    """evil-cdn[.]com in an entry of each of three days: the entries' ids, oldest first."""
    ids = []
    for n, day in enumerate(DAYS):
        items = await import_day(client, day, (f"Story {n}", ["evil-cdn[.]com", "45.137.21[.]9"]))
        ids.append(items[0]["id"])
    return ids


# ---------------------------------------------------------------------------- GET /indicators


async def test_an_indicator_of_three_days_answers_three_sightings_newest_first(
    client: httpx.AsyncClient, three_days: list[int]
) -> None:
    response = await seen(client, EVIL)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["type"], body["value"]) == ("domain", EVIL)
    assert (body["first_seen"], body["last_seen"], body["count"]) == (DAYS[0], DAYS[2], 3)
    assert body["sightings"] == [
        {
            "date": day,
            "item_id": item_id,
            "title": f"Story {n}",
            "url": "https://news.example/0",
            "section": "daily_news",
        }
        for n, day, item_id in reversed(list(zip(range(3), DAYS, three_days, strict=True)))
    ]
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    "value", ["evil-cdn[.]com", "EVIL-CDN.COM", "evil-cdn.com.", " Evil-Cdn[.]Com "]
)
async def test_defanged_upper_case_and_fully_qualified_values_find_it(
    client: httpx.AsyncClient, three_days: list[int], value: str
) -> None:
    response = await seen(client, value)

    assert response.status_code == 200, response.text
    assert (response.json()["value"], response.json()["count"]) == (EVIL, 3)


async def test_a_curated_removal_of_an_ioc_removes_that_sighting(
    client: httpx.AsyncClient, three_days: list[int]
) -> None:
    middle = f"/reports/{DAYS[1]}/items/{three_days[1]}"
    item = (await client.get(middle)).json()
    kept = [ioc for ioc in item["iocs"] if ioc["value"] != EVIL]

    patched = await client.patch(middle, json={"iocs": kept})

    assert patched.status_code == 200, patched.text
    body = (await seen(client, EVIL)).json()
    assert body["count"] == 2
    assert [s["date"] for s in body["sightings"]] == [DAYS[2], DAYS[0]]
    # The entry's other IOC is still sighted there.
    assert (await seen(client, "45.137.21.9")).json()["count"] == 3


async def test_an_indicator_whose_every_sighting_was_curated_away_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    (item,) = await import_day(client, DAYS[0], ("Story", ["evil-cdn[.]com", "45.137.21[.]9"]))
    kept = [ioc for ioc in item["iocs"] if ioc["value"] != EVIL]

    await client.patch(f"/reports/{DAYS[0]}/items/{item['id']}", json={"iocs": kept})

    assert_problem(await seen(client, EVIL), 404, "not-found")


async def test_first_seen_moves_when_the_oldest_entry_is_deleted(
    client: httpx.AsyncClient, three_days: list[int]
) -> None:
    deleted = await client.delete(f"/reports/{DAYS[0]}/items/{three_days[0]}")

    assert deleted.status_code == 204, deleted.text
    body = (await seen(client, EVIL)).json()
    assert (body["first_seen"], body["last_seen"], body["count"]) == (DAYS[1], DAYS[2], 2)


async def test_importing_a_day_again_replaces_its_sightings(
    client: httpx.AsyncClient, three_days: list[int]
) -> None:
    await import_day(client, DAYS[2], ("Another story", ["update-check[.]top"]))

    body = (await seen(client, EVIL)).json()
    assert (body["last_seen"], body["count"]) == (DAYS[1], 2)
    assert (await seen(client, "update-check.top")).json()["first_seen"] == DAYS[2]


async def test_an_article_summarized_into_a_day_is_sighted(client: httpx.AsyncClient) -> None:
    text = "A new loader calls hxxps://evil[.]com/gate from macros and 45.137.21[.]9. " * 4
    summarized = await client.post("/summarize", json={"text": text, "date": DAYS[0]})
    assert summarized.status_code == 200, summarized.text

    body = (await seen(client, "hxxps://evil[.]com/gate")).json()

    assert (body["type"], body["value"], body["count"]) == ("url", "https://evil.com/gate", 1)
    assert body["sightings"][0]["date"] == DAYS[0]


async def test_lines_no_rule_recognises_are_no_indicators(client: httpx.AsyncClient) -> None:
    (item,) = await import_day(client, DAYS[0], ("Story", ["a loader called Sneaky"]))

    assert [ioc["type"] for ioc in item["iocs"]] == ["other"]
    assert_problem(await seen(client, "a loader called Sneaky"), 422, "invalid-request")
    found = await client.post("/indicators/lookup", json={"values": ["a loader called Sneaky"]})
    assert found.json()["results"][0]["type"] is None


async def test_a_bulk_update_outside_the_service_keeps_the_sightings_in_step(
    app: FastAPI, client: httpx.AsyncClient, three_days: list[int]
) -> None:
    state: AppState = app.state.secdigest
    async with state.engine.begin() as connection:
        # Another process (or a script) empties every entry's IOCs behind the ORM's back.
        await connection.execute(sa.text("UPDATE report_items SET iocs = '[]'"))

    assert_problem(await seen(client, EVIL), 404, "not-found")


async def test_pages_follow_the_cursor_newest_first_without_gaps_or_repeats(
    client: httpx.AsyncClient,
) -> None:
    # Two entries on the middle day: the order is by day, then by entry, both newest first.
    entries = {
        DAYS[0]: [("a", [EVIL])],
        DAYS[1]: [("b", [EVIL]), ("c", [EVIL])],
        DAYS[2]: [("d", [EVIL]), ("e", ["45.137.21[.]9"])],
    }
    expected: list[tuple[str, int]] = []
    for day, stories in entries.items():
        items = await import_day(client, day, *stories)
        expected += [(day, i["id"]) for i in items if i["iocs"][0]["value"] == EVIL]
    expected.sort(reverse=True)

    pages: list[list[tuple[str, int]]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await seen(client, EVIL, **params)).json()
        assert body["count"] == 4
        pages.append([(s["date"], s["item_id"]) for s in body["sightings"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2]
    assert [row for page in pages for row in page] == expected


@pytest.mark.parametrize(
    "params",
    [
        {"value": EVIL, "cursor": "not-a-cursor"},
        {"value": EVIL, "cursor": "MjAyNC0xMi0wNnw5OTk5OTk5OTk5OTk5"},  # an id past int4
        {"value": EVIL, "limit": 0},
        {"value": EVIL, "limit": 501},
        {"value": "evil.com is bad"},
        {"value": ""},
        {"value": "a" * 2049},
        {},
    ],
)
async def test_bad_parameters_are_invalid_requests(
    client: httpx.AsyncClient, three_days: list[int], params: dict[str, Any]
) -> None:
    assert_problem(await client.get("/indicators", params=params), 422, "invalid-request")


async def test_a_value_never_seen_is_not_found(client: httpx.AsyncClient) -> None:
    body = assert_problem(await seen(client, "never-seen[.]example.org"), 404, "not-found")

    assert "never-seen.example.org" in body["detail"]


# ---------------------------------------------------------------------------- first_seen_of


async def test_first_seen_of_answers_the_first_day_of_each_pair_it_knows(
    app: FastAPI, client: httpx.AsyncClient, three_days: list[int]
) -> None:
    await import_day(client, DAYS[2], ("Later", ["update-check[.]top", "evil-cdn[.]com"]))
    # More values than one statement binds: a day's IOCs may be many.
    unknown = [("ipv4", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}") for n in range(6000)]
    state: AppState = app.state.secdigest

    async with state.read_sessionmaker() as session:
        first = await memory.first_seen_of(
            session,
            [("domain", EVIL), ("domain", "update-check.top"), ("other", "Sneaky"), *unknown],
        )

    assert {k: v.isoformat() for k, v in first.items()} == {
        ("domain", EVIL): DAYS[0],
        ("domain", "update-check.top"): DAYS[2],
    }


# ---------------------------------------------------------------------------- POST /lookup


async def test_lookup_answers_each_value_in_the_order_sent(
    client: httpx.AsyncClient, three_days: list[int]
) -> None:
    values = [
        "EVIL-CDN[.]COM",
        "hello there",
        "unseen[.]example.org",
        "45.137.21.9",
        "evil-cdn.com",
    ]

    response = await client.post("/indicators/lookup", json={"values": values})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["input"] for r in results] == values
    evil = {
        "type": "domain",
        "value": EVIL,
        "seen": True,
        "first_seen": DAYS[0],
        "last_seen": DAYS[2],
        "count": 3,
    }
    assert results[0] == {"input": values[0], **evil}
    assert results[4] == {"input": values[4], **evil}
    assert results[1] == {
        "input": "hello there",
        "type": None,
        "value": None,
        "seen": False,
        "first_seen": None,
        "last_seen": None,
        "count": 0,
    }
    assert (results[2]["type"], results[2]["seen"], results[2]["count"]) == ("domain", False, 0)
    assert (results[3]["type"], results[3]["count"]) == ("ipv4", 3)


async def test_lookup_takes_a_thousand_values_in_one_call(
    client: httpx.AsyncClient, three_days: list[int]
) -> None:
    values = [f"10.0.{n // 250}.{n % 250}" for n in range(999)] + ["evil-cdn[.]com"]

    response = await client.post("/indicators/lookup", json={"values": values})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 1000
    assert [r["count"] for r in results if r["seen"]] == [3]
    assert all(r["type"] == "ipv4" for r in results[:999])


@pytest.mark.parametrize(
    "body",
    [
        {"values": []},
        {"values": ["1.2.3.4"] * 1001},
        {"values": ["a" * 2049]},
        {"values": [""]},
        {"values": "evil.com"},
        {"values": ["evil.com"], "other": 1},
        {},
    ],
)
async def test_a_bad_lookup_body_is_an_invalid_request(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_problem(await client.post("/indicators/lookup", json=body), 422, "invalid-request")


async def test_a_lookup_body_must_be_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/indicators/lookup", content=b"evil.com", headers={"Content-Type": "text/plain"}
    )

    assert_problem(response, 415, "unsupported-media-type")
