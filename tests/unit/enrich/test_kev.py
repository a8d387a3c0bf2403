"""CISA's KEV catalog is read whole and strictly, or refused whole."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from app.services.enrich import CatalogRefused, KevRecord, parse_kev
from tests.support.paths import FIXTURES

KEV_FILE = FIXTURES / "enrich" / "known_exploited_vulnerabilities.json"
TRUNCATED = FIXTURES / "enrich" / "known_exploited_vulnerabilities-truncated.json"
LIMIT = 1024 * 1024


def catalog() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(KEV_FILE.read_bytes())
    return document


def encoded(document: object) -> bytes:
    return json.dumps(document).encode()


def refusal(body: bytes, *, max_bytes: int = LIMIT) -> str:
    with pytest.raises(CatalogRefused) as refused:
        parse_kev(body, max_bytes=max_bytes)
    assert refused.value.source == "kev"
    return str(refused.value)


def test_reads_every_record_with_the_catalogs_version_and_release_date() -> None:
    parsed = parse_kev(KEV_FILE.read_bytes(), max_bytes=LIMIT)

    assert parsed.version == "2025.06.01"
    assert parsed.released == date(2025, 6, 1)
    assert [r.cve_id for r in parsed.records] == [
        "CVE-2024-3400",
        "CVE-2024-21887",
        "CVE-2023-4966",
        "CVE-2023-20198",
        "CVE-2021-44228",
    ]
    assert parsed.records[-1] == KevRecord(
        cve_id="CVE-2021-44228",
        date_added=date(2021, 12, 10),
        due_date=date(2021, 12, 24),
        known_ransomware_campaign_use="Known",
        vendor_project="Apache",
        product="Log4j2",
        vulnerability_name="Apache Log4j2 Remote Code Execution Vulnerability",
    )


def test_a_truncated_download_is_refused_whole() -> None:
    assert "not valid JSON (cut short?)" in refusal(TRUNCATED.read_bytes())


def test_ids_are_stored_upper_case_and_optional_texts_may_be_missing() -> None:
    document = catalog()
    document["vulnerabilities"][0]["cveID"] = "cve-2024-3400"
    for key in ("vendorProject", "product", "vulnerabilityName"):
        del document["vulnerabilities"][0][key]
    del document["count"], document["catalogVersion"], document["dateReleased"]

    first = parse_kev(encoded(document), max_bytes=LIMIT).records[0]

    assert first.cve_id == "CVE-2024-3400"
    assert (first.vendor_project, first.product, first.vulnerability_name) == (None, None, None)


def _citrix() -> dict[str, Any]:
    record: dict[str, Any] = catalog()["vulnerabilities"][2]
    return record


def _without(key: str) -> dict[str, Any]:
    record = _citrix()
    del record[key]
    return record


def _with(**values: object) -> dict[str, Any]:
    record = _citrix()
    record.update(values)
    return record


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_without("cveID"), "record 2: cveID is not a CVE id"),
        (_with(cveID="CVE-23-4966"), "record 2: cveID is not a CVE id"),
        (_with(cveID="CVE-2023-١٢٣٤"), "record 2: cveID is not a CVE id"),  # Arabic digits
        (_with(cveID="CVE-2023-" + "1" * 21), "record 2: cveID is not a CVE id"),
        (_with(cveID=20234966), "record 2: cveID is not a CVE id"),
        (_without("dateAdded"), "record 2 (CVE-2023-4966): dateAdded is not a YYYY-MM-DD date"),
        (_with(dateAdded="10/18/2023"), "dateAdded is not a YYYY-MM-DD date"),
        (_with(dateAdded="20231018"), "dateAdded is not a YYYY-MM-DD date"),
        (_with(dueDate="2023-02-30"), "dueDate is not a YYYY-MM-DD date"),
        (_with(dueDate=20231108), "dueDate is not a YYYY-MM-DD date"),
        (_with(knownRansomwareCampaignUse=None), "knownRansomwareCampaignUse is not a text"),
        (_with(knownRansomwareCampaignUse=True), "knownRansomwareCampaignUse is not a text"),
        (_with(knownRansomwareCampaignUse=" "), "knownRansomwareCampaignUse is not a text"),
        (_with(knownRansomwareCampaignUse="x" * 40), "knownRansomwareCampaignUse is not a word"),
        (_with(product=["NetScaler"]), "product is not a text"),
        ("CVE-2023-4966", "record 2 is not an object"),
    ],
)
def test_one_malformed_record_refuses_the_whole_file(record: object, message: str) -> None:
    document = catalog()
    document["vulnerabilities"][2] = record

    assert message in refusal(encoded(document))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vulnerabilities": {"cveID": "CVE-2021-44228"}}, "it has no vulnerabilities list"),
        ({"vulnerabilities": None}, "it has no vulnerabilities list"),
        ({"vulnerabilities": []}, "the vulnerabilities list is empty"),
        ({"count": 6}, "count says 6, the list has 5 records"),
        ({"count": "5"}, "count says '5', the list has 5 records"),
        ({"count": True}, "count says True, the list has 5 records"),
        ({"catalogVersion": 2025}, "catalogVersion is not a short text"),
        ({"dateReleased": "yesterday"}, "dateReleased is not a date"),
    ],
)
def test_a_catalog_of_the_wrong_shape_is_refused(change: dict[str, Any], message: str) -> None:
    document = catalog()
    document.update(change)

    assert message in refusal(encoded(document))


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"catalog"', b"", b"\xff\xfe\x00garbage", b"[" * 100_000 + b"]" * 100_000],
    ids=["a list", "a string", "empty", "not text", "deeply nested"],
)
def test_what_is_not_a_catalog_object_is_refused_without_a_crash(body: bytes) -> None:
    refusal(body)


def test_a_cve_listed_twice_is_refused() -> None:
    document = catalog()
    document["vulnerabilities"].append(document["vulnerabilities"][0])
    document["count"] = 6

    assert "CVE-2024-3400 is listed twice" in refusal(encoded(document))


def test_a_file_over_the_limit_is_refused_before_it_is_parsed() -> None:
    body = KEV_FILE.read_bytes()

    assert f"larger than {len(body) - 1} bytes" in refusal(body, max_bytes=len(body) - 1)
