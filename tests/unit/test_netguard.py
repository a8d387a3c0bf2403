"""The basic SSRF guard: which addresses count as public, and the allow-list."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from app.errors import FetchBlocked
from app.services.netguard import AllowList, check_url, is_public_address, target_of


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "192.0.2.10",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
        "::7f00:1",
        "ff02::1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def test_allow_list_reads_hosts_ports_and_networks() -> None:
    allow = AllowList.parse(["intranet.corp", "wiki.corp:8443", "10.20.0.0/16", "[::1]:8080", ""])

    assert allow.allows("INTRANET.corp", 80)
    assert allow.allows("wiki.corp", 8443)
    assert not allow.allows("wiki.corp", 443)
    assert allow.allows("feeds.corp", 443, ipaddress.ip_address("10.20.3.4"))
    assert not allow.allows("feeds.corp", 443, ipaddress.ip_address("10.21.3.4"))
    assert allow.allows("::1", 8080)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://x.example/", "http://user:pw@x.example/", "http:///nohost"],
)
def test_odd_schemes_credentials_and_missing_hosts_are_blocked(url: str) -> None:
    with pytest.raises(FetchBlocked):
        target_of(httpx.URL(url))


@pytest.mark.parametrize("url", ["http://127.1/", "http://2130706433/", "http://0x7f.0.0.1/"])
async def test_odd_notations_are_judged_by_the_address_they_resolve_to(url: str) -> None:
    with pytest.raises(FetchBlocked):
        await check_url(httpx.URL(url), AllowList.parse([]))


async def test_allowed_host_passes_without_lookup() -> None:
    await check_url(httpx.URL("http://127.0.0.1:9/"), AllowList.parse(["127.0.0.1"]))
