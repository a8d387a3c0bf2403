"""STIX 2.1 bundles of a day: valid (stix2-validator), readable (stix2), as stix2 builds them."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import stix2

from app.services.exports.entries import ExportEntry
from app.services.exports.render import ExportOptions, render_export
from app.services.exports.stix import (
    STIX_NAMESPACE,
    TLP_MARKING_IDS,
    day_bundle,
    indicator_pattern,
    stix_id,
)
from app.services.reports.document import DocumentIoc
from tests.support.stix_days import (
    BIG_DAY,
    CREATED,
    SAMPLE_DAY,
    big_day_entries,
    hostile_entries,
    sample_entries,
)
from tests.support.stix_reference import (
    OASIS_TLP,
    parse_back,
    reference_bundle,
    reference_marking,
    validation,
)

OPTIONS = ExportOptions(producer="secdigest", tlp="clear")
FLAGGED = ExportOptions(producer="secdigest", tlp="clear", include_flagged=True)


def bundle_of(entries: list[ExportEntry], options: ExportOptions = OPTIONS) -> dict[str, Any]:
    day = entries[0].day if entries else SAMPLE_DAY
    parsed: dict[str, Any] = json.loads(day_bundle(entries, day=day, options=options))
    return parsed


def by_type(bundle: dict[str, Any], stix_type: str) -> list[dict[str, Any]]:
    return [made for made in bundle["objects"] if made["type"] == stix_type]


def assert_valid_and_as_stix2_builds_it(
    entries: list[ExportEntry], options: ExportOptions = OPTIONS
) -> dict[str, Any]:
    day = entries[0].day
    ours = day_bundle(entries, day=day, options=options)
    errors, warnings = validation(ours)
    assert errors == []
    assert warnings == []
    parsed = parse_back(ours)
    assert isinstance(parsed, stix2.v21.Bundle)
    naive = reference_bundle(entries, day=day, options=options)
    assert json.loads(ours) == json.loads(naive.serialize())
    as_dict: dict[str, Any] = json.loads(ours)
    return as_dict


def test_the_sample_day_is_a_valid_bundle_of_one_report_per_entry() -> None:
    entries = sample_entries()
    bundle = assert_valid_and_as_stix2_builds_it(entries)

    reports = by_type(bundle, "report")
    assert [r["name"] for r in reports] == [e.title for e in entries]
    first = reports[0]
    assert first["description"] == "\n".join(entries[0].summary)
    assert first["external_references"] == [
        {"source_name": "www.bleepingcomputer.com", "url": entries[0].url}
    ]
    assert first["published"] == "2024-12-06T01:02:03.456Z"
    # No indicators that day: STIX wants one reference, the producer's identity.
    (identity,) = by_type(bundle, "identity")
    assert first["object_refs"] == [identity["id"]]
    link = next(r for r in reports if r["name"].startswith("個人情報含むアンケート"))
    assert "description" not in link
    assert link["external_references"] == [
        {"source_name": "www.security-next.com", "url": "https://www.security-next.com/164989"}
    ]


def test_a_200_entry_day_with_every_kind_of_indicator_is_valid() -> None:
    entries = big_day_entries()
    assert len(entries) == 200
    bundle = assert_valid_and_as_stix2_builds_it(entries)

    assert len(by_type(bundle, "report")) == 200
    patterns = {made["pattern"].split(":", 1)[0] for made in by_type(bundle, "indicator")}
    assert patterns == {"[ipv4-addr", "[domain-name", "[url", "[file", "[email-addr"}
    assert by_type(bundle, "vulnerability")
    names = {made["name"] for made in by_type(bundle, "attack-pattern")}
    assert "Command and Scripting Interpreter: PowerShell" in names
    assert "T1999" in names  # an id the table does not know keeps its id as name
    cited = {ref for report in by_type(bundle, "report") for ref in report["object_refs"]}
    indicators = {made["id"] for made in bundle["objects"] if made["type"] != "report"}
    assert cited <= indicators


# Issue 19's types: each to its STIX object, or to none (ja3, ja3s, ja4, jarm, cwe).
NEW_TYPES = [
    ("ipv4_cidr", "185.220.101.0/24", "[ipv4-addr:value ISSUBSET '185.220.101.0/24']"),
    ("ipv6_cidr", "2a0e:97c0:3e0::/48", "[ipv6-addr:value ISSUBSET '2a0e:97c0:3e0::/48']"),
    ("asn", "AS4134", "[autonomous-system:number = 4134]"),
    (
        "bitcoin",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "[cryptocurrency-wallet:value = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq']",
    ),
    (
        "ethereum",
        "0x52908400098527886e0f7030069857d2e4169ee7",
        "[cryptocurrency-wallet:value = '0x52908400098527886e0f7030069857d2e4169ee7']",
    ),
    (
        "file_path",
        "C:\\Users\\Public\\it's.exe",
        "[file:name = 'it\\'s.exe' AND file:parent_directory_ref.path = 'C:\\\\Users\\\\Public']",
    ),
    ("file_path", "/tmp/.x/", "[directory:path = '/tmp/.x/']"),
    (
        "registry_key",
        "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
        "[windows-registry-key:key = "
        "'HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run']",
    ),
    (
        "ssdeep",
        "3072:Zr3lQ5Xw0zYq:Zr3lQ5Xw0zYq",
        "[file:hashes.SSDEEP = '3072:Zr3lQ5Xw0zYq:Zr3lQ5Xw0zYq']",
    ),
    ("tlsh", "T1" + "A" * 70, f"[file:hashes.TLSH = 'T1{'A' * 70}']"),
    (
        "imphash",
        "f34d5f2d4577ed6d9ceec516c1f5a744",
        "[file:extensions.'windows-pebinary-ext'.imphash = 'f34d5f2d4577ed6d9ceec516c1f5a744']",
    ),
    ("ja3", "72a589da586844d7f0818ce684948eea", None),
    ("jarm", "2ad2ad0002ad2ad00042d42d00000069d641f34fe76acdc05c40262f8815e5", None),
    ("cwe", "CWE-79", None),
]


@pytest.mark.parametrize(("kind", "value", "pattern"), NEW_TYPES)
def test_the_new_indicator_types_have_their_stix_pattern(
    kind: str, value: str, pattern: str | None
) -> None:
    assert indicator_pattern(kind, value) == pattern


def test_a_day_with_every_new_type_is_valid_and_as_stix2_builds_it() -> None:
    iocs = tuple(DocumentIoc(kind, value, value) for kind, value, _ in NEW_TYPES)
    entry = replace(big_day_entries(20)[0], iocs=iocs)

    bundle = assert_valid_and_as_stix2_builds_it([entry])

    patterns = {made["pattern"] for made in by_type(bundle, "indicator")}
    assert patterns == {pattern for _, _, pattern in NEW_TYPES if pattern is not None}


def test_hostile_values_are_escaped_valid_and_read_back_unchanged() -> None:
    entries = hostile_entries()
    for options in (OPTIONS, FLAGGED):
        bundle = assert_valid_and_as_stix2_builds_it(entries, options)

    indicators = {made["name"]: made["pattern"] for made in by_type(bundle, "indicator")}
    assert indicators["http://evil.example/it's/a'b"] == (
        "[url:value = 'http://evil.example/it\\'s/a\\'b']"
    )
    assert indicators["http://evil.example/end\\'"] == (
        "[url:value = 'http://evil.example/end\\\\\\'']"
    )
    assert indicators["例え.テスト"] == "[domain-name:value = '例え.テスト']"
    assert indicators["::ffff:192.0.2.1"] == "[ipv6-addr:value = '::ffff:192.0.2.1']"
    assert indicators["D41D8CD98F00B204E9800998ECF8427E"].startswith("[file:hashes.MD5 = ")
    (report, _second) = by_type(bundle, "report")
    assert report["name"] == entries[0].title
    # URLs as RFC 3986 URIs (the validator checks it); a source that is no URL, as text.
    assert report["external_references"] == [
        {"source_name": "news.example", "url": "https://news.example/it's?a=1&b='2'"},
        {"source_name": "other.example", "url": "https://other.example/%5Cback'slash"},
        {"source_name": "source", "description": "not a url at all"},
        {"source_name": "source", "description": "http://[::1"},
    ]
    assert by_type(bundle, "vulnerability")[0]["name"] == "CVE-2024-3400"
    assert by_type(bundle, "attack-pattern")[0]["external_references"][0]["external_id"] == (
        "T1059.001"
    )


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("ipv4", "ipv4-addr:value"),
        ("ipv6", "ipv6-addr:value"),
        ("domain", "domain-name:value"),
        ("url", "url:value"),
        ("email", "email-addr:value"),
        ("md5", "file:hashes.MD5"),
        ("sha1", "file:hashes.'SHA-1'"),
        ("sha256", "file:hashes.'SHA-256'"),
        ("sha512", "file:hashes.'SHA-512'"),
    ],
)
def test_each_indicator_type_has_its_object_path_and_escapes_like_stix2(
    kind: str, path: str
) -> None:
    value = "a'b\\c"
    expected = stix2.patterns.ObservationExpression(
        stix2.patterns.EqualityComparisonExpression(
            stix2.patterns.ObjectPath.make_object_path(path),
            stix2.patterns.StringConstant(value),
        )
    )
    assert indicator_pattern(kind, value) == str(expected)
    assert indicator_pattern(kind, value) == f"[{path} = 'a\\'b\\\\c']"


def test_lines_of_no_known_type_become_no_object() -> None:
    assert indicator_pattern("other", "x") is None
    assert indicator_pattern("cve", "CVE-2024-1") is None  # a vulnerability, not a pattern


def test_a_re_export_is_the_same_bytes_and_ids_are_uuid5_of_the_stix_namespace() -> None:
    entries = big_day_entries(40)
    first = day_bundle(entries, day=BIG_DAY, options=OPTIONS)
    assert day_bundle(list(entries), day=BIG_DAY, options=OPTIONS) == first
    for made in json.loads(first)["objects"]:
        if made["type"] != "marking-definition":
            assert uuid.UUID(made["id"].split("--")[1]).version == 5
    name = json.dumps({"producer": "secdigest"}, separators=(",", ":"))
    assert stix_id("identity", producer="secdigest") == (
        f"identity--{uuid.uuid5(STIX_NAMESPACE, name)}"
    )


def test_curating_an_entry_is_a_new_version_of_the_same_objects() -> None:
    entries = big_day_entries(20)
    before = {made["id"]: made for made in bundle_of(entries)["objects"]}
    edited = replace(
        entries[3], title="Edited by an analyst", updated_at=CREATED + timedelta(days=1)
    )
    after = {
        made["id"]: made for made in bundle_of([*entries[:3], edited, *entries[4:]])["objects"]
    }

    assert after.keys() == before.keys()
    changed = {i for i in after if after[i] != before[i]}
    report = next(i for i in changed if i.startswith("report--"))
    assert after[report]["name"] == "Edited by an analyst"
    assert after[report]["created"] == before[report]["created"]
    assert after[report]["modified"] > before[report]["modified"]
    # The entry's indicators move with it (a TAXII poll gets them again); nothing else.
    assert all(after[i]["modified"] == "2024-12-07T01:02:03.456Z" for i in changed)
    cited = set(after[report]["object_refs"])
    assert changed == {report} | cited


def test_an_indicator_cited_by_two_entries_spans_their_times() -> None:
    first, second = hostile_entries()
    bundle = bundle_of([first, second])
    shared = next(m for m in by_type(bundle, "indicator") if m["name"].endswith("it's/a'b"))
    # The second entry was created earlier and curated later than the first.
    assert shared["created"] == "2024-12-06T00:02:03.456Z"
    assert shared["valid_from"] == "2024-12-06T00:02:03.456Z"
    assert shared["modified"] == "2024-12-06T06:02:03.456Z"
    reports = by_type(bundle, "report")
    assert all(shared["id"] in report["object_refs"] for report in reports)
    assert len(by_type(bundle, "indicator")) == len({m["id"] for m in bundle["objects"]}) - len(
        [m for m in bundle["objects"] if m["type"] != "indicator"]
    )


def test_the_same_value_on_another_day_is_another_object() -> None:
    entry = hostile_entries()[0]
    other_day = replace(entry, day=entry.day + timedelta(days=1))
    today = {m["name"]: m["id"] for m in by_type(bundle_of([entry]), "indicator")}
    tomorrow = {m["name"]: m["id"] for m in by_type(bundle_of([other_day]), "indicator")}
    assert today.keys() == tomorrow.keys()
    assert not set(today.values()) & set(tomorrow.values())


def test_flagged_indicators_are_left_out_unless_asked_then_labelled() -> None:
    entry = replace(
        sample_entries()[0],
        iocs=(
            DocumentIoc("ipv4", "45.137.21.9", "45.137.21[.]9"),
            DocumentIoc("ipv4", "10.0.0.8", "10.0.0[.]8", ("private",)),
            DocumentIoc("domain", "example.com", "example[.]com", ("benign", "documentation")),
            DocumentIoc("url", "https://news.example/a", "x", ("source-site",)),
        ),
    )
    plain = by_type(bundle_of([entry]), "indicator")
    assert [m["name"] for m in plain] == ["45.137.21.9"]
    assert "labels" not in plain[0]

    flagged = assert_valid_and_as_stix2_builds_it([entry], FLAGGED)
    labels = {m["name"]: m.get("labels") for m in by_type(flagged, "indicator")}
    assert labels == {
        "45.137.21.9": None,
        "10.0.0.8": ["private"],
        "example.com": ["benign", "documentation"],
        "https://news.example/a": ["source-site"],
    }


@pytest.mark.parametrize("level", ["clear", "green", "amber", "amber+strict", "red"])
def test_every_object_is_marked_with_the_oasis_tlp_2_definition(level: str) -> None:
    options = ExportOptions(producer="ACME SOC", tlp=level)
    bundle = assert_valid_and_as_stix2_builds_it(hostile_entries(), options)

    marking, identity, *others = bundle["objects"]
    assert marking == json.loads(reference_marking(level).serialize())
    assert marking["id"] == TLP_MARKING_IDS[level] == OASIS_TLP[level]
    assert identity["name"] == "ACME SOC"
    for made in [identity, *others]:
        assert made["object_marking_refs"] == [marking["id"]]
    for made in others:
        assert made["created_by_ref"] == identity["id"]


def test_the_export_dispatch_renders_the_bundle() -> None:
    entries = sample_entries()
    rendered = render_export("stix", entries, day=SAMPLE_DAY, options=OPTIONS)
    assert rendered == day_bundle(entries, day=SAMPLE_DAY, options=OPTIONS)
