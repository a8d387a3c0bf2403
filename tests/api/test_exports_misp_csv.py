"""MISP, CSV and blocklists over HTTP: a day's exports, the MISP feed, firewalls' lists."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pymisp import MISPEvent
from pymisp.tools.feed import feed_meta_generator

from app.db import session_scope
from app.services import apikeys
from app.services.reports import today
from app.services.reports.sections import Section
from app.state import AppState
from tests.support.exports import HOSTILE_TITLE, StoredItem, ioc, store_day

DAY = date(2024, 12, 6)
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
GATE = "https://update-check.top/gate.php?id=1"


def _state(app: FastAPI) -> AppState:
    state: AppState = app.state.secdigest
    return state


def _stories() -> list[StoredItem]:
    return [
        StoredItem(
            HOSTILE_TITLE,
            [
                ioc("ipv4", "45.137.21.9"),
                ioc("ipv4", "10.0.0.5", "private"),
                ioc("domain", "update-check.top"),
                ioc("url", GATE, defanged="hxxps://update-check[.]top/gate.php?id=1"),
                ioc("sha256", SHA256, defanged=SHA256),
                ioc("cve", "CVE-2024-3400", defanged="CVE-2024-3400"),
                ioc("attack_technique", "T1059.001", defanged="T1059.001"),
            ],
            url="https://news.example.com/ember-lynx",
            sources=["https://other.example.org/ember-lynx"],
        ),
        StoredItem(
            "物流大手にランサムウェア攻撃",
            [ioc("domain", "malicious-site.jp"), ioc("ipv4", "8.8.8.8", "benign")],
            url="https://www.example.co.jp/news/1",
            section=Section.JAPAN_INCIDENTS,
        ),
    ]


def _load(body: str | bytes) -> MISPEvent:
    event = MISPEvent()
    event.load(body)
    return event


def _problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"/problems/{slug}"


# ---------------------------------------------------------------------------- a day


async def test_a_day_as_misp_is_one_event_per_entry_that_pymisp_loads(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await store_day(_state(app), DAY, _stories())

    plain = await client.get("/reports/2024-12-06?format=misp")
    flagged = await client.get("/reports/2024-12-06?format=misp&include_flagged=true")

    assert plain.status_code == 200, plain.text
    assert plain.headers["content-type"] == "application/json"
    events = [_load(json.dumps(item)) for item in plain.json()["response"]]
    assert [e.info for e in events] == [HOSTILE_TITLE, "物流大手にランサムウェア攻撃"]
    values = {a.value: a for a in events[0].attributes}
    assert {"45.137.21.9", "update-check.top", GATE, SHA256, "CVE-2024-3400"} <= set(values)
    assert "10.0.0.5" not in values
    assert 'misp-galaxy:mitre-attack-pattern="PowerShell - T1059.001"' in [
        t.name for t in events[0].tags
    ]
    kept = {a.value: a for a in _load(json.dumps(flagged.json()["response"][0])).attributes}
    assert kept["10.0.0.5"].to_ids is False


async def test_a_day_as_csv_reads_back_in_pythons_csv_one_row_per_indicator(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await store_day(_state(app), DAY, _stories())

    response = await client.get("/reports/2024-12-06?format=csv")
    with_bom = await client.get("/reports/2024-12-06?format=csv&bom=true")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    read = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert read[0] == [
        "date",
        "type",
        "value",
        "defanged",
        "flags",
        "title",
        "source_url",
        "section",
    ]
    assert [row[1:3] for row in read[1:]] == [
        ["ipv4", "45.137.21.9"],
        ["domain", "update-check.top"],
        ["url", GATE],
        ["sha256", SHA256],
        ["cve", "CVE-2024-3400"],
        ["attack_technique", "T1059.001"],
        ["domain", "malicious-site.jp"],
    ]
    assert read[1][5] == "'" + HOSTILE_TITLE  # a formula, neutralised
    assert read[-1][5:] == [
        "物流大手にランサムウェア攻撃",
        "https://www.example.co.jp/news/1",
        "japan_incidents",
    ]
    # Every row ends in CRLF; the title's own CRLF stays inside its quoted cell.
    assert response.content.count(b"\r\n") == len(read) + sum("\r\n" in r[5] for r in read)
    assert with_bom.content == b"\xef\xbb\xbf" + response.content


@pytest.mark.parametrize("fmt", ["misp", "csv"])
async def test_a_day_export_answers_304_to_its_etag_until_the_day_changes(
    app: FastAPI, client: httpx.AsyncClient, fmt: str
) -> None:
    [first, _] = await store_day(_state(app), DAY, _stories())
    url = f"/reports/2024-12-06?format={fmt}"
    etag = (await client.get(url)).headers["etag"]

    same = await client.get(url, headers={"If-None-Match": etag})
    await client.patch(f"/reports/2024-12-06/items/{first}", json={"title": "Curated"})
    changed = await client.get(url, headers={"If-None-Match": etag})

    assert same.status_code == 304
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_json_stays_the_default_and_markdown_a_format_beside_the_exports(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await store_day(_state(app), DAY, _stories())
    await client.get("/reports/2024-12-06?format=misp")

    default = await client.get("/reports/2024-12-06")
    markdown = await client.get("/reports/2024-12-06?format=md")

    assert default.headers["content-type"] == "application/json"
    assert default.json()["date"] == "2024-12-06"
    assert markdown.headers["content-type"].startswith("text/markdown")


# ---------------------------------------------------------------------------- the MISP feed


async def test_the_feed_reads_as_misps_fetcher_reads_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await store_day(_state(app), DAY, _stories())
    await store_day(_state(app), DAY + timedelta(days=1), [StoredItem("Next day")])

    manifest = (await client.get("/misp/manifest.json")).json()
    hashes = (await client.get("/misp/hashes.csv")).text

    # MISP reads the manifest's keys as event uuids and fetches <url>/<uuid>.json for each.
    assert len(manifest) == 3
    expected_hashes = set()
    for event_uuid, meta in manifest.items():
        response = await client.get(f"/misp/{event_uuid}.json")
        assert response.status_code == 200, response.text
        assert list(response.json()) == ["Event"]
        event = _load(response.content)
        assert event.uuid == event_uuid
        assert isinstance(event.timestamp, datetime)
        assert int(event.timestamp.timestamp()) == meta["timestamp"]
        assert (event.info, event.date.isoformat()) == (meta["info"], meta["date"])
        assert meta["Orgc"] == {"name": "secdigest", "uuid": event.Orgc.uuid}
        assert "tlp:clear" in [tag["name"] for tag in meta["Tag"]]
        expected_hashes |= {
            f"{hashlib.md5(a.value.encode()).hexdigest()},{event_uuid}" for a in event.attributes
        }
    assert set(hashes.splitlines()) == expected_hashes
    assert hashes.endswith("\n")
    assert "\r" not in hashes


async def test_the_feed_is_what_pymisps_feed_generator_writes_for_the_same_events(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    await store_day(_state(app), DAY, _stories())
    manifest = (await client.get("/misp/manifest.json")).json()
    for event_uuid in manifest:
        body = (await client.get(f"/misp/{event_uuid}.json")).content
        (tmp_path / f"{event_uuid}.json").write_bytes(body)

    feed_meta_generator(tmp_path)

    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    theirs = (tmp_path / "hashes.csv").read_text().splitlines()
    ours = (await client.get("/misp/hashes.csv")).text.splitlines()
    assert sorted(ours) == sorted(theirs)


async def test_feed_uuids_stay_and_timestamps_move_when_an_entry_is_curated(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    [first, _] = await store_day(_state(app), DAY, _stories())
    before = (await client.get("/misp/manifest.json")).json()

    patched = await client.patch(f"/reports/2024-12-06/items/{first}", json={"title": "Curated"})
    after = (await client.get("/misp/manifest.json")).json()

    assert patched.status_code == 200, patched.text
    assert list(after) == list(before)
    curated = next(u for u, meta in after.items() if meta["info"] == "Curated")
    assert after[curated]["timestamp"] > before[curated]["timestamp"]


async def test_the_feed_answers_304_until_something_changes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await store_day(_state(app), DAY, _stories())
    first = await client.get("/misp/manifest.json")
    etag = first.headers["etag"]
    some_uuid = next(iter(first.json()))
    event_etag = (await client.get(f"/misp/{some_uuid}.json")).headers["etag"]

    same = await client.get("/misp/manifest.json", headers={"If-None-Match": etag})
    same_event = await client.get(f"/misp/{some_uuid}.json", headers={"If-None-Match": event_etag})
    await store_day(_state(app), DAY + timedelta(days=1), [StoredItem("Next day")])
    changed = await client.get("/misp/manifest.json", headers={"If-None-Match": etag})

    assert (same.status_code, same.content) == (304, b"")
    assert same_event.status_code == 304
    assert changed.status_code == 200
    assert len(changed.json()) == 3


async def test_an_unknown_feed_event_is_a_404_problem(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await store_day(_state(app), DAY, _stories())

    _problem(await client.get(f"/misp/{uuid.uuid4()}.json"), 404, "not-found")
    _problem(await client.get("/misp/..%2F..%2Fetc%2Fpasswd.json"), 404, "not-found")
    _problem(await client.get("/misp/"), 404, "not-found")


async def test_an_empty_database_is_an_empty_feed(client: httpx.AsyncClient) -> None:
    manifest = await client.get("/misp/manifest.json")
    hashes = await client.get("/misp/hashes.csv")

    assert (manifest.status_code, manifest.json()) == (200, {})
    assert (hashes.status_code, hashes.content) == (200, b"")


# ---------------------------------------------------------------------------- blocklists


async def _days_back(app: FastAPI) -> None:
    """Indicators today, six days ago (inside a 7-day window) and seven days ago (outside)."""
    state = _state(app)
    now = today(state.settings.tz)
    await store_day(state, now, _stories())
    await store_day(state, now - timedelta(days=6), [StoredItem("Six", [ioc("ipv4", "103.1.2.3")])])
    await store_day(state, now - timedelta(days=7), [StoredItem("Seven", [ioc("ipv4", "5.6.7.8")])])


async def test_a_blocklist_lists_the_unflagged_values_of_the_last_days(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _days_back(app)

    week = await client.get("/blocklist/ipv4.txt?days=7")
    month = await client.get("/blocklist/ipv4.txt")
    today_only = await client.get("/blocklist/ipv4.txt?days=1")

    assert week.headers["content-type"] == "text/plain; charset=utf-8"
    assert week.text == "45.137.21.9\n103.1.2.3\n"  # not 10.0.0.5 (private), 8.8.8.8 (benign)
    assert month.text == "5.6.7.8\n45.137.21.9\n103.1.2.3\n"
    assert today_only.text == "45.137.21.9\n"


@pytest.mark.parametrize(
    ("ioc_type", "body"),
    [
        ("url", "update-check.top/gate.php?id=1\n"),
        ("domain", "malicious-site.jp\nupdate-check.top\n"),
        ("sha256", f"{SHA256}\n"),
        ("ipv6", ""),
    ],
)
async def test_each_blocklist_holds_its_type_in_the_form_firewalls_read(
    app: FastAPI, client: httpx.AsyncClient, ioc_type: str, body: str
) -> None:
    await _days_back(app)

    response = await client.get(f"/blocklist/{ioc_type}.txt")

    assert (response.status_code, response.text) == (200, body)


async def test_a_polling_firewall_gets_304_until_the_list_changes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _days_back(app)
    etag = (await client.get("/blocklist/ipv4.txt?days=7")).headers["etag"]

    polls = [
        await client.get("/blocklist/ipv4.txt?days=7", headers={"If-None-Match": etag})
        for _ in range(3)
    ]
    other_window = await client.get("/blocklist/ipv4.txt?days=8", headers={"If-None-Match": etag})
    state = _state(app)
    await store_day(
        state,
        today(state.settings.tz) - timedelta(days=3),
        [StoredItem("New", [ioc("ipv4", "9.9.9.10")])],
    )
    changed = await client.get("/blocklist/ipv4.txt?days=7", headers={"If-None-Match": etag})

    assert [p.status_code for p in polls] == [304, 304, 304]
    assert all(p.content == b"" for p in polls)
    assert other_window.status_code == 200
    assert changed.status_code == 200
    assert "9.9.9.10\n" in changed.text


async def test_an_unknown_blocklist_is_404_and_a_window_out_of_bounds_422(
    client: httpx.AsyncClient,
) -> None:
    _problem(await client.get("/blocklist/email.txt"), 404, "not-found")
    _problem(await client.get("/blocklist/ipv4"), 404, "not-found")
    _problem(await client.get("/blocklist/ipv4.txt?days=0"), 422, "invalid-request")
    _problem(await client.get("/blocklist/ipv4.txt?days=366"), 422, "invalid-request")


async def test_the_feed_and_blocklists_need_a_read_key_once_keys_exist(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await _days_back(app)
    async with session_scope(_state(app).sessionmaker) as session:
        key = (await apikeys.create_key(session, name="firewall", scope="read")).key

    for path in ("/blocklist/ipv4.txt", "/misp/manifest.json", "/misp/hashes.csv"):
        _problem(await client.get(path), 401, "unauthorized")
        assert (await client.get(path, headers={"Authorization": f"Bearer {key}"})).is_success
        # A firewall's EDL client authentication: any user name, the key as the password.
        assert (await client.get(path, auth=httpx.BasicAuth("paloalto", key))).is_success
