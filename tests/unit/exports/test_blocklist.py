"""Blocklists: one value per line, in the form firewalls read, nothing that could hurt."""

from __future__ import annotations

from datetime import date

import pytest

from app.errors import InvalidRequest, NotFound
from app.services.exports.blocklist import MAX_DAYS, blocklist_text, edl_value, window
from tests.support.exports import ioc, make_entry


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("https://update-check.top/gate.php?id=1", "update-check.top/gate.php?id=1"),
        ("http://update-check.top/a/b#fragment", "update-check.top/a/b"),
        ("https://Update-Check.TOP/CaseKept", "update-check.top/CaseKept"),
        ("https://update-check.top", "update-check.top"),
        ("https://update-check.top:8443/x", "update-check.top:8443/x"),
        ("http://bank.example.com@update-check.top/login", "update-check.top/login"),
        ("http://45.137.21.9/payload.bin", "45.137.21.9/payload.bin"),
        ("http://[2a00:1450:4001:82b::200e]/x", "[2a00:1450:4001:82b::200e]/x"),
    ],
)
def test_a_url_is_listed_without_its_scheme_credentials_or_fragment(value: str, line: str) -> None:
    assert edl_value("url", value) == line


@pytest.mark.parametrize(
    ("ioc_type", "value"),
    [
        ("url", "https://update-check.top/a\nevil.example"),  # a line break adds a line
        ("url", "https://update-check.top/a b"),  # a space starts an EDL's comment
        ("url", "https://update-check.top/a\u2028b"),  # a Unicode line separator
        ("url", "ftp://update-check.top/file"),  # not web traffic
        ("url", "https://10.0.0.1/admin"),  # a private host
        ("url", "https:///no-host"),
        ("url", "https://update-check.top:99999/"),
        ("domain", "*.update-check.top"),  # a wildcard would widen the block
        ("domain", "update-check.top\r\n0.0.0.0"),
        ("domain", "45.137.21.9"),
        ("domain", "-bad-.top"),
        ("ipv4", "0.0.0.0/0"),  # a network, the whole internet
        ("ipv4", "10.0.0.5"),  # private
        ("ipv4", "127.0.0.1"),  # loopback
        ("ipv4", "169.254.169.254"),  # link-local
        ("ipv4", "192.0.2.10"),  # documentation
        ("ipv4", "045.137.021.009"),  # ambiguous leading zeros
        ("ipv4", "2a00:1450:4001:82b::200e"),
        ("ipv6", "::1"),
        ("ipv6", "fe80::1%eth0"),
        ("ipv6", "2001:db8::1"),  # documentation
        ("md5", "44d88612fea8a8f36de82e1278abb02"),  # one digit short
        ("sha256", "z" * 64),
        ("cve", "CVE-2024-3400"),  # no such blocklist
    ],
)
def test_a_value_that_would_break_or_widen_a_list_is_never_listed(
    ioc_type: str, value: str
) -> None:
    assert edl_value(ioc_type, value) is None


@pytest.mark.parametrize(
    ("ioc_type", "value", "line"),
    [
        ("ipv4", "45.137.21.9", "45.137.21.9"),
        ("ipv6", "2A00:1450:4001:082B:0:0:0:200E", "2a00:1450:4001:82b::200e"),
        ("domain", "Update-Check.TOP.", "update-check.top"),
        ("domain", "bücher.example.jp", "xn--bcher-kva.example.jp"),
        ("md5", "44D88612FEA8A8F36DE82E1278ABB02F", "44d88612fea8a8f36de82e1278abb02f"),
        (
            "sha1",
            "3395856ce81f2b7382dee72602f798b642f14140",
            "3395856ce81f2b7382dee72602f798b642f14140",
        ),
        ("sha512", "CC" * 64, "cc" * 64),
    ],
)
def test_values_are_written_in_their_canonical_form(ioc_type: str, value: str, line: str) -> None:
    assert edl_value(ioc_type, value) == line


def test_the_list_is_unflagged_deduplicated_and_sorted_one_value_per_line() -> None:
    entries = [
        make_entry(
            ioc("ipv4", "45.137.21.9"),
            ioc("ipv4", "8.8.8.8", "benign"),
            ioc("ipv4", "103.1.2.3"),
            ioc("domain", "update-check.top"),
            item_id=1,
        ),
        make_entry(ioc("ipv4", "45.137.21.9"), ioc("ipv4", "5.6.7.8"), item_id=2),
    ]

    body = blocklist_text(entries, ioc_type="ipv4")

    assert body == b"5.6.7.8\n45.137.21.9\n103.1.2.3\n"  # numeric order, not text order


def test_the_ip_lists_hold_the_public_networks_of_their_version_in_order() -> None:
    entry = make_entry(
        ioc("ipv4", "45.137.21.9"),
        ioc("ipv4_cidr", "45.137.21.0/24"),
        ioc("ipv4_cidr", "185.220.101.0/24"),
        ioc("ipv4_cidr", "10.0.0.0/8"),  # private: a firewall must not block it
        ioc("ipv4_cidr", "0.0.0.0/0"),  # everything
        ioc("ipv4_cidr", "100.0.0.0/8"),  # holds the shared 100.64.0.0/10
        ioc("ipv4_cidr", "4.0.0.0/6"),  # wider than a /8
        ioc("ipv6_cidr", "2a0e:97c0:3e0::/48"),
        ioc("ipv4_cidr", "203.0.113.0/24", "documentation"),
    )

    assert blocklist_text([entry], ioc_type="ipv4") == (
        b"45.137.21.0/24\n45.137.21.9\n185.220.101.0/24\n"
    )
    assert blocklist_text([entry], ioc_type="ipv6") == b"2a0e:97c0:3e0::/48\n"


def test_the_same_indicators_in_another_order_give_the_same_bytes() -> None:
    one = make_entry(ioc("domain", "b-update.top"), ioc("domain", "a-update.top"), item_id=1)
    two = make_entry(ioc("domain", "a-update.top"), item_id=2)

    assert blocklist_text([one, two], ioc_type="domain") == blocklist_text(
        [two, one], ioc_type="domain"
    )


def test_a_list_with_nothing_in_it_is_empty() -> None:
    assert blocklist_text([make_entry()], ioc_type="sha256") == b""


def test_an_unknown_type_is_not_found() -> None:
    with pytest.raises(NotFound, match="ipv4, ipv6, domain, url, md5, sha1, sha256, sha512"):
        blocklist_text([], ioc_type="email")


def test_the_window_counts_back_from_today_included() -> None:
    today = date(2024, 12, 6)

    assert window(1, today) == (today, today)
    assert window(7, today) == (date(2024, 11, 30), today)
    assert window(MAX_DAYS, today)[0] == date(2023, 12, 8)  # 2024 has a 29 February


@pytest.mark.parametrize("days", [0, -1, MAX_DAYS + 1])
def test_a_window_out_of_bounds_is_refused(days: int) -> None:
    with pytest.raises(InvalidRequest):
        window(days, date(2024, 12, 6))
