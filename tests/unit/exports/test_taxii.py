"""The TAXII collection's pure side: versions, filters, pages and cursors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.errors import BadRequest
from app.services.exports.render import ExportOptions
from app.services.exports.stix import day_objects
from app.services.exports.taxii import (
    MAX_PAGE_SIZE,
    Filters,
    ObjectVersion,
    Snapshot,
    build_snapshot,
    day_versions,
    envelope,
    manifest,
    micros,
    object_versions,
    parse_filters,
    select_page,
    versions_resource,
)
from tests.support.stix_days import big_day_entries, hostile_entries

OPTIONS = ExportOptions(producer="secdigest", tlp="clear")
ALL = ("id", "type", "version", "spec_version")


def made(object_id: str, modified: str, stix_type: str = "indicator") -> dict[str, Any]:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{object_id}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
    }


def two_days() -> Snapshot:
    """The collection of a 30-entry day and of the hostile day after it, as the store
    builds it."""
    shared: dict[tuple[str, str], ObjectVersion] = {}
    days = [
        day_versions(day_objects(found, day=found[0].day, options=OPTIONS), shared)
        for found in (big_day_entries(30), hostile_entries())
    ]
    return build_snapshot(days, shared.values())


def test_the_objects_every_day_has_are_held_once() -> None:
    snapshot = two_days()
    ids = [version.id for version in snapshot.versions]
    assert len(ids) == len(set(ids))
    assert sum(1 for i in ids if i.startswith(("identity--", "marking-definition--"))) == 2


def test_versions_are_in_date_added_order_and_date_added_is_the_version() -> None:
    snapshot = two_days()
    keys = [version.key for version in snapshot.versions]
    assert keys == sorted(keys)
    for version in snapshot.versions:
        obj = json.loads(version.raw)
        assert version.date_added == version.version == obj.get("modified", obj["created"])


def test_pages_follow_one_another_through_the_cursor_without_gap_or_repeat() -> None:
    snapshot = two_days()
    seen: list[str] = []
    query: dict[str, str] = {"limit": "50"}
    while True:
        page = select_page(snapshot, parse_filters(query, matches=ALL))
        assert len(page.versions) == 50 or not page.more
        seen += [version.id for version in page.versions]
        if not page.more:
            break
        assert page.next is not None
        query = {"limit": "50", "next": page.next}
    assert seen == [version.id for version in snapshot.versions]


def test_added_after_returns_only_the_later_versions() -> None:
    snapshot = two_days()
    middle = snapshot.versions[len(snapshot.versions) // 2]
    page = select_page(snapshot, parse_filters({"added_after": middle.date_added}, matches=ALL))
    assert page.versions
    assert all(version.key[0] > middle.key[0] for version in page.versions)
    assert page.headers() == {
        "X-TAXII-Date-Added-First": page.versions[0].date_added,
        "X-TAXII-Date-Added-Last": page.versions[-1].date_added,
    }
    last = snapshot.versions[-1].date_added
    empty = select_page(snapshot, parse_filters({"added_after": last}, matches=ALL))
    assert empty.versions == []
    assert empty.headers() == {}
    assert envelope(empty) == b'{"more":false}'


def test_match_type_and_id_select_their_objects_in_order() -> None:
    snapshot = two_days()
    filters = parse_filters({"match[type]": "vulnerability,attack-pattern"}, matches=ALL)
    picked = select_page(snapshot, filters).versions
    assert {v.type for v in picked} == {"vulnerability", "attack-pattern"}
    assert [v.key for v in picked] == sorted(v.key for v in picked)
    some = [v.id for v in snapshot.versions[5:8]]
    by_id = select_page(snapshot, parse_filters({"match[id]": ",".join(some)}, matches=ALL))
    assert [v.id for v in by_id.versions] == some


def test_match_version_picks_first_last_all_or_a_timestamp() -> None:
    versions = object_versions(
        [
            made("a", "2024-12-06T01:00:00.000Z"),
            made("a", "2024-12-06T02:00:00.000Z"),
            made("a", "2024-12-06T03:00:00.000Z"),
            made("b", "2024-12-06T02:30:00.000Z"),
        ]
    )
    snapshot = Snapshot(versions)

    def picked(version: str | None) -> list[str]:
        query = {"match[version]": version} if version else {}
        page = select_page(snapshot, parse_filters(query, matches=ALL))
        return [f"{v.id[-1]}{v.version[11:13]}" for v in page.versions]

    assert picked(None) == ["b02", "a03"]  # last, by default
    assert picked("first") == ["a01", "b02"]
    assert picked("first,last") == ["a01", "b02", "a03"]
    assert picked("all") == ["a01", "a02", "b02", "a03"]
    assert picked("2024-12-06T02:00:00Z") == ["a02"]
    one = select_page(snapshot, Filters(versions=frozenset({"all"})), object_id="indicator--a")
    assert versions_resource(one) == (
        b'{"more":false,"versions":["2024-12-06T01:00:00.000Z","2024-12-06T02:00:00.000Z",'
        b'"2024-12-06T03:00:00.000Z"]}'
    )


def test_manifest_records_name_each_version_and_its_media_type() -> None:
    snapshot = Snapshot(object_versions([made("a", "2024-12-06T01:00:00.000Z")]))
    page = select_page(snapshot, Filters())
    assert json.loads(manifest(page)) == {
        "more": False,
        "objects": [
            {
                "id": "indicator--a",
                "date_added": "2024-12-06T01:00:00.000Z",
                "version": "2024-12-06T01:00:00.000Z",
                "media_type": "application/stix+json;version=2.1",
            }
        ],
    }


def test_a_spec_version_filter_without_2_1_matches_nothing() -> None:
    snapshot = two_days()
    page = select_page(snapshot, parse_filters({"match[spec_version]": "2.0"}, matches=ALL))
    assert page.versions == []


def test_limit_is_capped_at_the_server_maximum() -> None:
    assert parse_filters({"limit": "100000"}, matches=ALL).limit == MAX_PAGE_SIZE
    assert parse_filters({}, matches=ALL).limit == MAX_PAGE_SIZE


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "-3"},
        {"limit": "ten"},
        {"added_after": "yesterday"},
        {"added_after": "2024-12-06T01:00:00"},  # no zone
        {"next": "!!not-a-cursor!!"},
        {"next": "bm90IGEgY3Vyc29y"},  # base64 of something else
        {"match[version]": "newest"},
    ],
)
def test_bad_filters_are_bad_requests(query: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        parse_filters(query, matches=ALL)


def test_timestamps_compare_to_the_microsecond() -> None:
    assert micros("2024-12-06T01:02:03.456Z") + 1 == micros("2024-12-06T01:02:03.456001Z")
    assert micros("1970-01-01T00:00:00Z") == 0
