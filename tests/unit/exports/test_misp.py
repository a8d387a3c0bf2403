"""MISP events of a day, checked with PyMISP's own reader."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pymisp import MISPEvent

from app.services.exports.misp import NAMESPACE, build_event, day_events, event_uuid
from app.services.exports.render import ExportOptions
from tests.support.exports import DAY, HOSTILE_TITLE, UPDATED, ioc, make_entry

OPTIONS = ExportOptions(producer="secdigest", tlp="clear")


def _events(body: bytes) -> list[MISPEvent]:
    """Every event of a day's answer, each loaded by PyMISP as MISP's restSearch reads."""
    document = json.loads(body)
    assert list(document) == ["response"]
    loaded = []
    for item in document["response"]:
        event = MISPEvent()
        event.load(item)
        loaded.append(event)
    return loaded


def _attributes(event: MISPEvent) -> dict[str, Any]:
    return {a.value: a for a in event.attributes}


def test_every_entry_is_one_event_that_pymisp_loads() -> None:
    entries = [
        make_entry(ioc("ipv4", "45.137.21.9"), item_id=1, title="One"),
        make_entry(ioc("domain", "update-check.top"), item_id=2, title="Two"),
    ]

    events = _events(day_events(entries, day=DAY, options=OPTIONS))

    assert [e.info for e in events] == ["One", "Two"]
    assert [e.uuid for e in events] == [event_uuid(e, "secdigest") for e in entries]
    assert all(e.date == DAY for e in events)
    assert all(e.Orgc.name == "secdigest" for e in events)
    assert all((e.analysis, e.threat_level_id, e.published) == (2, 4, True) for e in events)


@pytest.mark.parametrize(
    ("ioc_type", "value", "misp_type", "to_ids"),
    [
        ("ipv4", "45.137.21.9", "ip-dst", True),
        ("ipv6", "2a00:1450:4001:82b::200e", "ip-dst", True),
        ("domain", "update-check.top", "domain", True),
        ("url", "https://update-check.top/gate.php?id=1", "url", True),
        ("email", "billing@update-check.top", "email-src", True),
        ("md5", "44d88612fea8a8f36de82e1278abb02f", "md5", True),
        ("sha1", "3395856ce81f2b7382dee72602f798b642f14140", "sha1", True),
        (
            "sha256",
            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
            "sha256",
            True,
        ),
        ("sha512", "cc" * 64, "sha512", True),
        ("cve", "CVE-2024-3400", "vulnerability", False),
        ("ipv4_cidr", "185.220.101.0/24", "ip-dst", True),
        ("ipv6_cidr", "2a0e:97c0:3e0::/48", "ip-dst", True),
        ("asn", "AS4134", "AS", False),
        ("bitcoin", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "btc", True),
        ("monero", "4" + "A" * 94, "xmr", True),
        ("ethereum", "0x52908400098527886e0f7030069857d2e4169ee7", "text", False),
        ("file_path", "C:\\Users\\Public\\svchost.exe", "filename", True),
        ("registry_key", "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run", "regkey", True),
        ("ssdeep", "3072:Zr3lQ5Xw0zYq:Zr3lQ5Xw0zYq", "ssdeep", True),
        ("tlsh", "T1" + "A" * 70, "tlsh", True),
        ("imphash", "f34d5f2d4577ed6d9ceec516c1f5a744", "imphash", True),
        ("ja3", "72a589da586844d7f0818ce684948eea", "ja3-fingerprint-md5", True),
        ("ja3s", "ec74a5c51106f0419184d0dd08fb05bc", "text", False),
        ("ja4", "t13d1516h2_8daaf6152771_b186095e22b6", "text", False),
        (
            "jarm",
            "2ad2ad0002ad2ad00042d42d00000069d641f34fe76acdc05c40262f8815e5",
            "jarm-fingerprint",
            True,
        ),
        ("cwe", "CWE-79", "weakness", False),
    ],
)
def test_indicators_become_attributes_of_the_right_misp_type(
    ioc_type: str, value: str, misp_type: str, to_ids: bool
) -> None:
    [event] = _events(day_events([make_entry(ioc(ioc_type, value))], day=DAY, options=OPTIONS))

    attribute = _attributes(event)[value]

    assert (attribute.type, attribute.to_ids) == (misp_type, to_ids)
    if misp_type == "text":  # the comment says what the text is
        assert attribute.comment in ("Ethereum address", "JA3S fingerprint", "JA4 fingerprint")


def test_uuids_are_derived_from_the_entry_and_the_same_in_every_render() -> None:
    entry = make_entry(ioc("ipv4", "45.137.21.9"), item_id=7)

    first = day_events([entry], day=DAY, options=OPTIONS)
    again = day_events([entry], day=DAY, options=OPTIONS)
    [event] = _events(first)

    orgc = uuid.uuid5(NAMESPACE, "orgc:secdigest")
    assert first == again
    assert event.Orgc.uuid == str(orgc)
    assert event.uuid == str(uuid.uuid5(orgc, "2024-12-06/7"))
    attribute = _attributes(event)["45.137.21.9"]
    assert attribute.uuid == str(uuid.uuid5(uuid.UUID(event.uuid), "ip-dst|45.137.21.9"))


def test_another_producer_or_item_is_another_event() -> None:
    entry = make_entry(item_id=7)

    assert event_uuid(entry, "secdigest") != event_uuid(entry, "another-team")
    assert event_uuid(entry, "secdigest") != event_uuid(make_entry(item_id=8), "secdigest")


def test_flagged_indicators_are_left_out_unless_asked_and_then_not_for_detection() -> None:
    entry = make_entry(ioc("ipv4", "45.137.21.9"), ioc("ipv4", "10.0.0.5", "private"))
    flagged = ExportOptions(producer="secdigest", tlp="clear", include_flagged=True)

    [plain] = _events(day_events([entry], day=DAY, options=OPTIONS))
    [kept] = _events(day_events([entry], day=DAY, options=flagged))

    assert "10.0.0.5" not in _attributes(plain)
    attribute = _attributes(kept)["10.0.0.5"]
    assert attribute.to_ids is False
    assert attribute.comment == "flagged: private"
    assert _attributes(kept)["45.137.21.9"].to_ids is True


def test_attack_techniques_are_galaxy_tags_with_misps_names() -> None:
    entry = make_entry(
        ioc("attack_technique", "T1059.001"), ioc("attack_technique", "T1566"), ioc("other", "x")
    )

    [event] = _events(day_events([entry], day=DAY, options=OPTIONS))

    names = [tag.name for tag in event.tags]
    assert 'misp-galaxy:mitre-attack-pattern="PowerShell - T1059.001"' in names
    assert 'misp-galaxy:mitre-attack-pattern="Phishing - T1566"' in names
    assert "x" not in _attributes(event)  # an unrecognised line is not an indicator


def test_an_attack_id_that_attack_never_had_stays_text_without_a_made_up_name() -> None:
    [event] = _events(
        day_events([make_entry(ioc("attack_technique", "T9999"))], day=DAY, options=OPTIONS)
    )

    attribute = _attributes(event)["T9999"]
    assert (attribute.type, attribute.to_ids) == ("text", False)
    assert not any("T9999" in tag.name for tag in event.tags)


@pytest.mark.parametrize(
    ("tlp", "distribution"),
    [("clear", "3"), ("green", "1"), ("amber", "0"), ("amber+strict", "0"), ("red", "0")],
)
def test_tlp_is_a_tag_and_the_distribution(tlp: str, distribution: str) -> None:
    options = ExportOptions(producer="secdigest", tlp=tlp)

    body = day_events([make_entry()], day=DAY, options=options)

    [event] = _events(body)
    assert f"tlp:{tlp}" in [tag.name for tag in event.tags]
    assert json.loads(body)["response"][0]["Event"]["distribution"] == distribution
    assert event.distribution == int(distribution)


def test_timestamps_are_the_entrys_last_change() -> None:
    [event] = _events(
        day_events([make_entry(ioc("ipv4", "45.137.21.9"))], day=DAY, options=OPTIONS)
    )

    assert event.timestamp == UPDATED
    assert event.publish_timestamp == UPDATED
    assert all(a.timestamp == UPDATED for a in event.attributes)


def test_the_source_other_sites_and_summary_are_link_and_text_attributes() -> None:
    entry = make_entry(
        sources=("https://other.example.org/same-story",),
        summary=("First point.", "Second point."),
    )

    [event] = _events(day_events([entry], day=DAY, options=OPTIONS))

    found = _attributes(event)
    assert found["https://news.example.com/ember-lynx"].type == "link"
    assert found["https://other.example.org/same-story"].type == "link"
    summary = found["First point.\nSecond point."]
    assert (summary.type, summary.to_ids, summary.disable_correlation) == ("text", False, True)
    assert not any(a.to_ids for a in event.attributes)


def test_a_value_listed_twice_is_one_attribute() -> None:
    entry = make_entry(ioc("domain", "update-check.top"), ioc("domain", "update-check.top"))

    event = build_event(entry, OPTIONS)

    assert [a.value for a in event.attributes].count("update-check.top") == 1


def test_hostile_titles_and_values_stay_data() -> None:
    url = 'https://update-check.top/a"b</script>{"x":1}'
    entry = make_entry(ioc("url", url), title=HOSTILE_TITLE)

    [event] = _events(day_events([entry], day=DAY, options=OPTIONS))

    assert event.info == HOSTILE_TITLE
    assert _attributes(event)[url].type == "url"


def test_an_empty_title_falls_back_to_the_url() -> None:
    assert (
        build_event(make_entry(title="  "), OPTIONS).info == "https://news.example.com/ember-lynx"
    )


def test_an_empty_day_is_an_empty_response() -> None:
    assert json.loads(day_events([], day=DAY, options=OPTIONS)) == {"response": []}
