"""GET /reports/{date}?format=stix: the bundle through the read cache, negotiation, flags."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI

from app.db import session_scope
from app.models import ReportItem
from app.state import AppState
from tests.support.stix_reference import parse_back, validation

MD = {"Content-Type": "text/markdown"}
STIX = "application/stix+json;version=2.1"
DAY = "/reports/2024-12-06"
# A day whose indicators the pipeline would flag (an import stores no flags: set below).
WITH_IOCS = """# Daily Security Info

### malware campaign

#### Ember Lynx targets logistics firms
https://news.example.com/ember-lynx

- 要約
    - A campaign against logistics firms.
- IOCの列挙
    - 45.137.21[.]9
    - 10.0.0[.]8
    - example[.]com
    - hxxps://evil-cdn[.]top/drop/a.bin
    - hxxps://evil-cdn[.]top/it's/a.bin
- 推奨事項
    - Block them.
- その他
    - なし
- ChatGPTの推奨事項
    - なし
"""
FLAGS = {"10.0.0.8": ["private"], "example.com": ["benign", "documentation"]}


def objects(response: httpx.Response, stix_type: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(response.content)["objects"]
    return [made for made in found if made["type"] == stix_type]


async def flag_indicators(app: FastAPI) -> None:
    """Give the stored indicators the flags the IOC engine would have given them."""
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        for item in (await session.execute(ReportItem.__table__.select())).all():
            row = await session.get(ReportItem, item.id)
            assert row is not None
            row.iocs = [{**i, "flags": FLAGS.get(i["value"], [])} for i in row.iocs]


async def test_a_day_as_stix_is_a_valid_bundle_with_an_etag_and_a_304(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await client.put(DAY, content=sample_markdown.encode(), headers=MD)

    response = await client.get(f"{DAY}?format=stix")

    assert response.status_code == 200
    assert response.headers["content-type"] == STIX
    assert validation(response.content) == ([], [])
    assert len(parse_back(response.content).objects) == 2 + 8  # marking, identity, entries
    again = await client.get(
        f"{DAY}?format=stix", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


async def test_the_stix_media_type_in_accept_selects_the_bundle(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await client.put(DAY, content=sample_markdown.encode(), headers=MD)

    negotiated = await client.get(DAY, headers={"Accept": STIX})
    asked = await client.get(f"{DAY}?format=stix")

    assert negotiated.headers["content-type"] == STIX
    assert negotiated.content == asked.content
    assert negotiated.headers["etag"] == asked.headers["etag"]
    assert "Accept" in negotiated.headers["vary"]


async def test_flagged_indicators_are_exported_only_when_asked_and_labelled(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.put(DAY, content=WITH_IOCS.encode(), headers=MD)
    await flag_indicators(app)

    plain = await client.get(f"{DAY}?format=stix")
    flagged = await client.get(f"{DAY}?format=stix&include_flagged=true")

    assert [m["name"] for m in objects(plain, "indicator")] == [
        "45.137.21.9",
        "https://evil-cdn.top/drop/a.bin",
        "https://evil-cdn.top/it's/a.bin",
    ]
    labels = {m["name"]: m.get("labels") for m in objects(flagged, "indicator")}
    assert labels == {
        "45.137.21.9": None,
        "10.0.0.8": ["private"],
        "example.com": ["benign", "documentation"],
        "https://evil-cdn.top/drop/a.bin": None,
        "https://evil-cdn.top/it's/a.bin": None,
    }
    assert plain.headers["etag"] != flagged.headers["etag"]
    assert validation(flagged.content) == ([], [])
    quoted = next(m for m in objects(plain, "indicator") if "'" in m["name"])
    assert quoted["pattern"] == "[url:value = 'https://evil-cdn.top/it\\'s/a.bin']"


async def test_curating_an_entry_answers_a_new_version_of_the_same_objects(
    client: httpx.AsyncClient,
) -> None:
    await client.put(DAY, content=WITH_IOCS.encode(), headers=MD)
    before = await client.get(f"{DAY}?format=stix")
    (item,) = [i for s in (await client.get(DAY)).json()["sections"] for i in s["items"]]

    edited = await client.patch(f"{DAY}/items/{item['id']}", json={"title": "Edited"})
    assert edited.status_code == 200, edited.text
    after = await client.get(
        f"{DAY}?format=stix", headers={"If-None-Match": before.headers["etag"]}
    )

    assert after.status_code == 200
    (old,), (new,) = objects(before, "report"), objects(after, "report")
    assert (new["id"], new["created"], new["name"]) == (old["id"], old["created"], "Edited")
    assert new["modified"] > old["modified"]
    assert [m["id"] for m in objects(after, "indicator")] == [
        m["id"] for m in objects(before, "indicator")
    ]
