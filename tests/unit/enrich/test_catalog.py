"""CVE ids and dates as both sources write them."""

from __future__ import annotations

from datetime import date

import pytest

from app.services.enrich import cve_id
from app.services.enrich.catalog import iso_day


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("CVE-2024-3400", "CVE-2024-3400"),
        (" cve-2021-44228 ", "CVE-2021-44228"),
        ("Cve-2024-1234567", "CVE-2024-1234567"),
        ("CVE-2024-123", None),
        ("CVE-2024-" + "9" * 21, None),
        ("CVE-２０２４-1234", None),
        ("CAN-2004-0001", None),
        ("CVE-2024-1234x", None),
    ],
)
def test_cve_ids_are_stored_upper_case_and_anything_else_is_none(
    given: str, stored: str | None
) -> None:
    assert cve_id(given) == stored


@pytest.mark.parametrize(
    ("given", "day"),
    [
        ("2024-12-06", date(2024, 12, 6)),
        ("2024-12-06T15:00:51.6416Z", date(2024, 12, 6)),
        ("2024-12-06 15:00", date(2024, 12, 6)),
        ("20241206", None),
        ("2024-W49-5", None),
        ("2024-02-30", None),
        ("2024-12-06x", None),
    ],
)
def test_only_calendar_dates_are_dates(given: str, day: date | None) -> None:
    assert iso_day(given) == day
