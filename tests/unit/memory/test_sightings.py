"""Normalising a value asked about to the (type, value) that report entries store."""

from __future__ import annotations

import pytest

from app.services.iocs import find_iocs
from app.services.memory import MAX_VALUE_LENGTH, normalise


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("evil.com", ("domain", "evil.com")),
        ("evil[.]com", ("domain", "evil.com")),
        ("evil(dot)com", ("domain", "evil.com")),
        ("EVIL.COM", ("domain", "evil.com")),
        ("Evil[.]Com", ("domain", "evil.com")),
        ("evil.com.", ("domain", "evil.com")),
        ("evil[.]com[.]", ("domain", "evil.com")),
        ("  evil.com \n", ("domain", "evil.com")),
        ("45.137.21[.]9", ("ipv4", "45.137.21.9")),
        ("45.137.21.9.", ("ipv4", "45.137.21.9")),
        ("2001:DB8::1", ("ipv6", "2001:db8::1")),
        ("hxxps://evil[.]com/Gate.php", ("url", "https://evil.com/Gate.php")),
        ("HTTPS://EVIL.COM/Gate.php", ("url", "https://evil.com/Gate.php")),
        ("USER[at]EVIL[.]COM", ("email", "user@evil.com")),
        ("D41D8CD98F00B204E9800998ECF8427E", ("md5", "d41d8cd98f00b204e9800998ecf8427e")),
        ("cve-2024-3400", ("cve", "CVE-2024-3400")),
        ("T1059.001", ("attack_technique", "T1059.001")),
    ],
)
def test_a_value_in_any_form_is_normalised_as_the_engine_stores_it(
    value: str, expected: tuple[str, str]
) -> None:
    assert normalise(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "update.zip",  # a file name in prose; asked about, a name
        "System.IO",
        "T1059",  # a part number in prose; asked about, a technique
    ],
)
def test_a_value_asked_about_is_an_indicator_where_prose_would_be_doubted(value: str) -> None:
    assert find_iocs(value) == []
    assert normalise(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "...",
        "hello",
        "evil.com is bad",
        "evil.com evil.org",
        "version 1.2.3.4",
        "T1000",
        "evil." + "a" * MAX_VALUE_LENGTH + ".com",
    ],
)
def test_anything_but_one_whole_indicator_is_none(value: str) -> None:
    assert normalise(value) is None


def test_a_url_is_the_url_not_the_hash_or_host_inside_it() -> None:
    url = "https://evil.com/dl/d41d8cd98f00b204e9800998ecf8427e.exe"

    assert normalise(url) == ("url", url)
