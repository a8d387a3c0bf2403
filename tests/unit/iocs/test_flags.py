"""Flags: MISP warning lists with the list's name as the reason, networks, ASNs, onion."""

from __future__ import annotations

import ipaddress
import json
import socket
from importlib.util import find_spec
from pathlib import Path

import pytest

from app.services.iocs import find_iocs
from app.services.iocs import flags as fl
from app.services.iocs.flags import (
    BenignList,
    benign_reason,
    flags_for,
    flags_with_reasons,
)

DEFAULTS = BenignList.with_defaults()
GOOGLE = "MISP warning list: List of known google domains"
OFFICE = "MISP warning list: List of known Office 365 URLs"
EMPTY = "MISP warning list: List of known hashes for empty files"
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def flags(kind: str, value: str, benign: BenignList = DEFAULTS) -> tuple[str, ...]:
    return flags_for(kind, value, benign=benign, source_domain=None)


def found_flags(text: str) -> dict[str, tuple[str, ...]]:
    return {i.value: i.flags for i in find_iocs(text)}


# --------------------------------------------------------------- MISP warning lists


def test_vendor_names_from_a_warning_list_are_benign_with_the_lists_name() -> None:
    text = "The stealer checks login.microsoftonline.com and 1e100.net, then calls evil-c2.top"
    assert found_flags(text) == {
        "login.microsoftonline.com": ("benign",),
        "1e100.net": ("benign",),
        "evil-c2.top": (),
    }
    assert benign_reason("domain", "login.microsoftonline.com", benign=DEFAULTS) == OFFICE
    assert benign_reason("domain", "1e100.net", benign=DEFAULTS) == GOOGLE
    assert benign_reason("domain", "evil-c2.top", benign=DEFAULTS) is None


def test_flags_stay_bare_strings_and_the_reason_comes_beside_them() -> None:
    found, reasons = flags_with_reasons("domain", "1e100.net", benign=DEFAULTS, source_domain=None)
    assert found == ("benign",)
    assert all(type(flag) is str for flag in found)
    assert reasons == {"benign": GOOGLE}
    assert flags_with_reasons("domain", "evil-c2.top", benign=DEFAULTS, source_domain=None) == (
        (),
        {},
    )


def test_whats_my_ip_lists_cover_subdomains_but_vendor_lists_only_exact_names() -> None:
    assert flags("domain", "api.ipify.org") == ("benign",)
    # `.azurewebsites.net` and `.google.com` in MISP's string lists: tenants' names and
    # Google-hosted content, never read as "any subdomain".
    assert flags("domain", "azurewebsites.net") == ("benign",)
    assert flags("domain", "evil-c2.azurewebsites.net") == ()
    assert flags("domain", "payload.blob.core.windows.net") == ()
    assert flags("domain", "docs.google.com") == ()


def test_a_c2_on_a_cloud_provider_is_not_flagged() -> None:
    aws = fl._load_warning_lists(["amazon-aws"])  # the list exists; we leave it out
    address = ipaddress.ip_address("3.120.5.7")
    assert aws.networks.reason(int(address), 4, 32) is not None
    text = (
        "Beacons to 3.120.5.7 and ec2-3-120-5-7.eu-central-1.compute.amazonaws.com; "
        "the loader lists amazonaws.com"
    )
    assert found_flags(text) == {
        "3.120.5.7": (),
        "ec2-3-120-5-7.eu-central-1.compute.amazonaws.com": (),
        "amazonaws.com": ("benign",),
    }


def test_hashes_of_empty_content_are_benign() -> None:
    for kind, value in (("md5", EMPTY_MD5), ("sha256", EMPTY_SHA256), ("ssdeep", "3::")):
        assert flags(kind, value) == ("benign",)
        assert benign_reason(kind, value, benign=DEFAULTS) == EMPTY
    assert flags("md5", EMPTY_MD5.upper()) == ("benign",)
    assert flags("md5", "098f6bcd4621d373cade4e832627b4f6") == ()
    assert flags("ipv6", "3::") == ("reserved",)  # the ssdeep of nothing is no address


def test_found_empty_md5_is_flagged_benign() -> None:
    assert found_flags(f"the dropped file {EMPTY_MD5} is empty") == {EMPTY_MD5: ("benign",)}


def test_reasons_name_our_list_and_the_operators_entries() -> None:
    custom = BenignList.with_defaults(["intranet-mirror.net", "45.9.0.0/16", "github.com"])
    assert benign_reason("domain", "intranet-mirror.net", benign=custom) == "SECDIGEST_IOC_BENIGN"
    assert benign_reason("ipv4", "45.9.1.2", benign=custom) == "SECDIGEST_IOC_BENIGN"
    assert benign_reason("domain", "github.com", benign=custom) == "SECDIGEST_IOC_BENIGN"
    assert benign_reason("domain", "www.gitlab.com", benign=custom) == "secdigest list"
    assert benign_reason("ipv4", "8.8.8.8", benign=custom) == "secdigest list"
    assert benign_reason("domain", "1e100.net", benign=custom) == GOOGLE


def test_a_url_on_a_benign_host_has_no_reason() -> None:
    url = "https://login.microsoftonline.com/common/oauth2/evil"
    assert flags_with_reasons("url", url, benign=DEFAULTS, source_domain=None) == ((), {})


def test_a_list_of_ones_own_has_no_warning_lists() -> None:
    assert flags("domain", "1e100.net", benign=BenignList([])) == ()
    assert flags("md5", EMPTY_MD5, benign=BenignList.with_defaults(warninglists=False)) == ()


def test_the_warning_lists_are_read_on_the_first_lookup_that_needs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loads: list[object] = []
    real = fl._load_warning_lists

    def counting(names: object) -> fl._Entries:
        loads.append(names)
        return real(names)  # type: ignore[arg-type]

    monkeypatch.setattr(fl, "_warning", None)
    monkeypatch.setattr(fl, "_load_warning_lists", counting)
    benign = BenignList.with_defaults()
    assert flags("cve", "CVE-2024-1234", benign) == ()
    assert flags("domain", "google.com", benign) == ("benign",)  # ours answers first
    assert loads == []
    assert flags("md5", EMPTY_MD5, benign) == ("benign",)
    assert flags("domain", "1e100.net", benign) == ("benign",)
    assert len(loads) == 1


def test_reading_the_warning_lists_never_touches_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    entries = fl._load_warning_lists(fl.MISP_WARNING_LISTS)
    assert entries.exact
    assert entries.hashes


def test_every_chosen_warning_list_is_shipped_with_entries() -> None:
    spec = find_spec("pymispwarninglists")
    assert spec is not None
    assert spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "misp-warninglists"
    for name in fl.MISP_WARNING_LISTS:
        data = json.loads((root / "lists" / name / "list.json").read_text(encoding="utf-8"))
        assert data["list"], name
        assert data["type"] in ("string", "hostname", "substring", "cidr"), name


# -------------------------------------------------------------------- networks


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("ipv4_cidr", "203.0.113.0/24", ("documentation",)),
        ("ipv4_cidr", "203.0.113.64/26", ("documentation",)),
        ("ipv4_cidr", "10.0.0.0/8", ("private",)),
        ("ipv4_cidr", "192.168.10.0/24", ("private",)),
        ("ipv4_cidr", "100.64.0.0/10", ("private",)),
        ("ipv4_cidr", "127.0.0.0/8", ("loopback",)),
        ("ipv4_cidr", "169.254.0.0/16", ("link-local",)),
        ("ipv4_cidr", "224.0.0.0/24", ("reserved",)),
        ("ipv4_cidr", "45.9.0.0/16", ()),
        # only partly special: it also covers public addresses, which may be evidence
        ("ipv4_cidr", "10.0.0.0/7", ()),
        ("ipv4_cidr", "192.0.0.0/8", ()),
        ("ipv4_cidr", "0.0.0.0/0", ()),
        ("ipv4_cidr", "10.1.2.3/8", ("private",)),  # host bits set: still that network
        ("ipv6_cidr", "2001:db8:1::/48", ("documentation",)),
        ("ipv6_cidr", "fd12:3456::/32", ("private",)),
        ("ipv6_cidr", "fe80::/64", ("link-local",)),
        ("ipv6_cidr", "2a00:1450::/32", ()),
        ("ipv6_cidr", "not a network", ()),
    ],
)
def test_networks_are_flagged_by_the_special_range_that_holds_them(
    kind: str, value: str, expected: tuple[str, ...]
) -> None:
    assert flags(kind, value) == expected


def test_a_network_inside_a_benign_network_is_benign() -> None:
    custom = BenignList.with_defaults(["45.9.0.0/16", "8.8.8.8"])
    assert flags("ipv4_cidr", "45.9.1.0/24", custom) == ("benign",)
    assert benign_reason("ipv4_cidr", "45.9.1.0/24", benign=custom) == "SECDIGEST_IOC_BENIGN"
    assert flags("ipv4_cidr", "45.0.0.0/8", custom) == ()
    assert flags("ipv4_cidr", "8.8.8.0/24", custom) == ()  # one benign address is not its /24
    assert flags("ipv4_cidr", "8.8.8.8/32", custom) == ("benign",)


def test_special_ranges_agree_with_the_flags_of_their_addresses() -> None:
    for net, flag in fl._SPECIAL_NETWORKS:
        assert fl._address_flags(net[0]) == [flag], net
        assert fl._address_flags(net[-1]) == [flag], net


# ------------------------------------------------------------------------- ASNs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("AS64512", ("private",)),
        ("AS65534", ("private",)),
        ("AS4200000000", ("private",)),
        ("AS4294967294", ("private",)),
        ("AS64496", ("documentation",)),
        ("AS64511", ("documentation",)),
        ("AS65536", ("documentation",)),
        ("AS65551", ("documentation",)),
        ("AS0", ("reserved",)),
        ("AS23456", ("reserved",)),
        ("AS65535", ("reserved",)),
        ("as 64512", ("private",)),
        ("64512", ("private",)),
        ("AS1.0", ("documentation",)),  # asdot: 65536
        ("AS13335", ()),
        ("AS4134", ()),
        ("AS", ()),
    ],
)
def test_asns_are_flagged_private_documentation_or_reserved(
    value: str, expected: tuple[str, ...]
) -> None:
    assert flags("asn", value) == expected


# ------------------------------------------------------------------------ onion


def test_onion_names_are_flagged_onion() -> None:
    onion = "duskgytldkxiuqc6.onion"
    v3 = "lockbit" + "a" * 49 + ".onion"
    assert flags("domain", onion) == ("onion",)
    assert flags("domain", f"blog.{v3}") == ("onion",)
    assert flags("url", f"http://{v3}/leak/victim") == ("onion",)
    assert flags("domain", "onion.example.com") == ("documentation",)
    assert flags("domain", "onion-news.top") == ()
    assert fl.ONION == "onion"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("bitcoin", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
        ("file_path", "C:\\Users\\Public\\svc.exe"),
        ("registry_key", "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"),
        ("ja3", EMPTY_MD5),
        ("imphash", EMPTY_MD5),
        ("cwe", "CWE-79"),
    ],
)
def test_other_new_kinds_have_no_flags(kind: str, value: str) -> None:
    assert flags(kind, value) == ()
