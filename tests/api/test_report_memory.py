"""The report JSON remembers: first_seen and seen_before per IOC, ?new_only, KEV and EPSS.

They depend on more than the day (an earlier day, a source loaded): a cached day must not
outlive a change to either, in this process or when another one writes.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.state import AppState
from tests.support.digests import import_day

DAYS = ("2024-12-04", "2024-12-05", "2024-12-06")
EVIL = "evil-cdn.com"
CVE = "CVE-2024-3400"


def iocs_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The day's IOCs by value (every entry of every section)."""
    return {
        ioc["value"]: ioc
        for section in report["sections"]
        for item in section["items"]
        for ioc in item["iocs"]
    }


def news_item(report: dict[str, Any]) -> dict[str, Any]:
    """The one entry of the day's news section."""
    (item,) = next(s["items"] for s in report["sections"] if s["key"] == "daily_news")
    return dict(item)


async def report(client: httpx.AsyncClient, day: str, **params: Any) -> httpx.Response:
    response = await client.get(f"/reports/{day}", params=params)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
async def three_days(client: httpx.AsyncClient) -> None:
    """evil-cdn[.]com on each of three days; a new address on each; the CVE on the last."""
    for n, day in enumerate(DAYS):
        lines = ["evil-cdn[.]com", f"45.137.21[.]{n + 1}"] + ([CVE] if n == 2 else [])
        await import_day(client, day, (f"Story {n}", lines))


async def test_each_ioc_carries_its_first_day_and_whether_it_was_seen_before(
    client: httpx.AsyncClient, three_days: None
) -> None:
    first = iocs_of((await report(client, DAYS[0])).json())
    last = iocs_of((await report(client, DAYS[2])).json())

    assert first[EVIL]["first_seen"] == DAYS[0]
    assert first[EVIL]["seen_before"] is False
    assert last[EVIL]["first_seen"] == DAYS[0]
    assert last[EVIL]["seen_before"] is True
    assert last["45.137.21.3"]["first_seen"] == DAYS[2]
    assert last["45.137.21.3"]["seen_before"] is False


async def test_new_only_keeps_only_the_indicators_first_seen_that_day(
    client: httpx.AsyncClient, three_days: None
) -> None:
    whole = (await report(client, DAYS[1])).json()
    new = (await report(client, DAYS[1], new_only="true")).json()

    assert set(iocs_of(whole)) == {EVIL, "45.137.21.2"}
    assert set(iocs_of(new)) == {"45.137.21.2"}
    # Every entry stays; only indicators are left out.
    assert new["item_count"] == whole["item_count"] == 1
    assert (await client.get(f"/reports/{DAYS[1]}", params={"new_only": "false"})).json() == whole


async def test_new_only_is_refused_for_the_markdown_digest(
    client: httpx.AsyncClient, three_days: None
) -> None:
    response = await client.get(f"/reports/{DAYS[1]}", params={"new_only": "true", "format": "md"})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "new_only" in response.json()["detail"]


async def test_an_earlier_day_written_later_changes_a_cached_day(
    client: httpx.AsyncClient, three_days: None
) -> None:
    before = await report(client, DAYS[2])
    await report(client, DAYS[2])  # now from the cache
    markdown = await report(client, DAYS[2], format="md")

    await import_day(client, "2024-11-30", ("Older story", ["evil-cdn[.]com"]))

    again = await client.get(
        f"/reports/{DAYS[2]}", headers={"If-None-Match": before.headers["etag"]}
    )
    assert again.status_code == 200
    assert again.headers["etag"] != before.headers["etag"]
    assert iocs_of(again.json())[EVIL]["first_seen"] == "2024-11-30"
    # The Markdown digest shows none of it: its ETag holds.
    markdown_again = await client.get(
        f"/reports/{DAYS[2]}",
        params={"format": "md"},
        headers={"If-None-Match": markdown.headers["etag"]},
    )
    assert markdown_again.status_code == 304


async def test_a_curation_that_removes_the_first_sighting_moves_first_seen(
    client: httpx.AsyncClient, three_days: None
) -> None:
    await report(client, DAYS[2])
    oldest = (await report(client, DAYS[0])).json()
    item = news_item(oldest)
    kept = [ioc for ioc in item["iocs"] if ioc["value"] != EVIL]

    patched = await client.patch(f"/reports/{DAYS[0]}/items/{item['id']}", json={"iocs": kept})

    assert patched.status_code == 200, patched.text
    last = iocs_of((await report(client, DAYS[2])).json())
    assert last[EVIL]["first_seen"] == DAYS[1]
    assert last[EVIL]["seen_before"] is True


async def test_a_curated_item_answers_with_its_memory(
    client: httpx.AsyncClient, three_days: None
) -> None:
    item = news_item((await report(client, DAYS[1])).json())

    shown = (await client.get(f"/reports/{DAYS[1]}/items/{item['id']}")).json()

    assert {ioc["value"]: ioc["seen_before"] for ioc in shown["iocs"]} == {
        EVIL: True,
        "45.137.21.2": False,
    }


async def test_a_cve_without_loaded_sources_has_null_kev_and_epss(
    client: httpx.AsyncClient, three_days: None
) -> None:
    cve = iocs_of((await report(client, DAYS[2])).json())[CVE]

    assert cve["kev"] is None
    assert cve["epss"] is None
    assert iocs_of((await report(client, DAYS[2])).json())[EVIL]["kev"] is None


async def test_sources_loaded_by_another_process_reach_a_cached_day(
    app: FastAPI, client: httpx.AsyncClient, three_days: None
) -> None:
    before = await report(client, DAYS[2])
    await report(client, DAYS[2])  # cached
    state: AppState = app.state.secdigest
    async with state.engine.begin() as connection:
        # As `secdigest enrich update` writes a load: the rows, then the source's row.
        await connection.execute(
            sa.text("INSERT INTO enrichment_sources (name, row_count) VALUES ('kev', 0)")
        )
        await connection.execute(
            sa.text(
                "INSERT INTO kev_entries (cve_id, date_added, due_date, "
                "known_ransomware_campaign_use) VALUES (:cve, '2024-04-12', '2024-04-19', 'Known')"
            ),
            {"cve": CVE},
        )
        await connection.execute(
            sa.text(
                "INSERT INTO epss_scores (cve_id, score, percentile, date) "
                "VALUES (:cve, 0.94283, 0.99961, '2024-12-06')"
            ),
            {"cve": CVE},
        )
        await connection.execute(
            sa.text("UPDATE enrichment_sources SET row_count = 1, data_date = '2024-12-06'")
        )

    after = await report(client, DAYS[2])

    assert after.headers["etag"] != before.headers["etag"]
    cve = iocs_of(after.json())[CVE]
    assert cve["kev"] == {
        "date_added": "2024-04-12",
        "due_date": "2024-04-19",
        "known_ransomware_campaign_use": "Known",
    }
    assert cve["epss"] == {"score": 0.94283, "percentile": 0.99961, "date": "2024-12-06"}
