"""The SSRF guard: which addresses count as public, the allow-list, ports, one lookup."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from app.errors import FetchBlocked, FetchFailed
from app.services.fetch.netguard import (
    AllowList,
    carried_ipv4,
    check_url,
    is_public_address,
    target_of,
)
from tests.support.hostile import StubResolver

NOTHING_ALLOWED = AllowList.parse([])


def _teredo(client: str, server: str = "65.54.227.120") -> str:
    """A Teredo address whose (obfuscated) client is `client`."""
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64)
    return str(ipaddress.IPv6Address(value | (~int(ipaddress.IPv4Address(client)) & 0xFFFFFFFF)))


REFUSED = {
    "loopback": ["127.0.0.1", "127.255.255.254", "::1"],
    "private": ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "fc00::1"],
    "metadata": [
        "169.254.169.254",  # AWS, GCP, Azure, OCI
        "169.254.170.2",  # ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba
        "168.63.129.16",  # Azure WireServer
        "192.0.0.192",  # Oracle Cloud Classic
    ],
    "link-local": ["169.254.0.1", "fe80::1"],
    "cgnat": ["100.64.0.1", "100.127.255.254"],
    "multicast": ["224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1"],
    "reserved": ["240.0.0.1", "255.255.255.255", "fec0::1", "100::1", "5f00::1"],
    "unspecified": ["0.0.0.0", "0.1.2.3", "::"],
    "benchmark": ["198.18.0.1", "198.19.255.254", "2001:2::1"],
    "documentation": ["192.0.2.10", "198.51.100.7", "203.0.113.9", "2001:db8::1", "3fff::1"],
    "carriers": [
        "::ffff:127.0.0.1",  # mapped
        "::ffff:169.254.169.254",
        "::ffff:0:a00:1",  # translated (SIIT)
        "::7f00:1",  # compatible
        "::a9fe:a9fe",
        "64:ff9b::7f00:1",  # NAT64
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:7f00:1::",  # 6to4
        "2002:a9fe:a9fe::1",
        _teredo("127.0.0.1"),
        _teredo("10.0.0.1"),
    ],
}


@pytest.mark.parametrize(
    "address",
    [pytest.param(a, id=f"{kind}:{a}") for kind, addresses in REFUSED.items() for a in addresses],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.216.34",
        "2606:4700::1111",
        "2001:4860:4860::8888",
        "64:ff9b::808:808",  # NAT64 of a public address: how IPv6-only networks reach IPv4
        "::ffff:8.8.8.8",
        "2002:808:808::1",
        _teredo("8.8.8.8"),
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("::ffff:0:a00:1", "10.0.0.1"),
        ("::a00:1", "10.0.0.1"),
        ("64:ff9b::a00:1", "10.0.0.1"),
        ("2002:a00:1::", "10.0.0.1"),
        (_teredo("10.0.0.1"), "10.0.0.1"),
    ],
)
def test_ipv6_forms_are_judged_by_the_ipv4_address_they_carry(address: str, carried: str) -> None:
    assert carried_ipv4(ipaddress.IPv6Address(address)) == ipaddress.IPv4Address(carried)


def test_allow_list_reads_hosts_ports_and_networks() -> None:
    allow = AllowList.parse(
        ["intranet.corp", "wiki.corp:8443", "10.20.0.0/16", "[::1]:8080", "Bücher.example", ""]
    )

    assert allow.allows("INTRANET.corp.", 80)
    assert allow.allows("wiki.corp", 8443)
    assert not allow.allows("wiki.corp", 443)
    assert allow.allows("feeds.corp", 443, ipaddress.ip_address("10.20.3.4"))
    assert not allow.allows("feeds.corp", 443, ipaddress.ip_address("10.21.3.4"))
    assert allow.allows("::1", 8080)
    assert allow.allows("xn--bcher-kva.example", 443)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://x.example/",
        "ftp://x.example/",
        "dict://x.example:11211/",
        "http://user:pw@x.example/",
        "http://user@x.example/",
        "http:///nohost",
    ],
)
def test_odd_schemes_credentials_and_missing_hosts_are_blocked(url: str) -> None:
    with pytest.raises(FetchBlocked):
        target_of(httpx.URL(url))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1/",  # short
        "http://2130706433/",  # decimal
        "http://0x7f000001/",  # hex
        "http://0x7f.0.0.1/",
        "http://0/",
        "http://[::]/",
        "http://[::ffff:7f00:1]/",
        "http://localhost/",
    ],
)
async def test_odd_notations_are_judged_by_the_address_they_resolve_to(url: str) -> None:
    # The system resolver reads these without asking DNS: the test runs offline.
    with pytest.raises(FetchBlocked):
        await check_url(httpx.URL(url), NOTHING_ALLOWED)


async def test_a_name_that_resolves_to_a_private_address_is_blocked_without_saying_where() -> None:
    dns = StubResolver({"jenkins.corp.example": [["10.1.2.3"]]})

    with pytest.raises(FetchBlocked) as blocked:
        await check_url(httpx.URL("http://jenkins.corp.example/"), NOTHING_ALLOWED, resolver=dns)

    assert "10.1.2.3" not in blocked.value.detail


async def test_every_resolved_address_is_judged() -> None:
    dns = StubResolver({"mixed.example": [["93.184.216.34", "169.254.169.254"]]})

    with pytest.raises(FetchBlocked):
        await check_url(httpx.URL("https://mixed.example/"), NOTHING_ALLOWED, resolver=dns)


async def test_a_public_host_is_resolved_once_and_its_addresses_kept() -> None:
    dns = StubResolver({"news.example": [["93.184.216.34", "2606:4700::1111"], ["10.0.0.1"]]})

    target = await check_url(httpx.URL("https://News.Example/a"), NOTHING_ALLOWED, resolver=dns)

    assert dns.calls == [("news.example", 443)]
    assert target.host == "news.example"
    assert target.port == 443
    assert [str(a) for a in target.addresses] == ["93.184.216.34", "2606:4700::1111"]


async def test_ports_outside_the_list_are_blocked_before_any_lookup() -> None:
    dns = StubResolver({"news.example": [["93.184.216.34"]]})

    for url in ("http://news.example:22/", "http://news.example:6379/", "https://news.example:81/"):
        with pytest.raises(FetchBlocked):
            await check_url(httpx.URL(url), NOTHING_ALLOWED, resolver=dns)

    assert dns.calls == []


async def test_the_port_list_is_configurable() -> None:
    dns = StubResolver({"news.example": [["93.184.216.34"]]})
    url = httpx.URL("http://news.example:8000/")

    await check_url(url, NOTHING_ALLOWED, ports=frozenset({8000}), resolver=dns)
    with pytest.raises(FetchBlocked):
        await check_url(httpx.URL("http://news.example/"), NOTHING_ALLOWED, ports=frozenset({8000}))


async def test_allowed_hosts_are_still_resolved_once_and_pinned() -> None:
    dns = StubResolver({"intranet.corp": [["10.9.8.7"]]})

    target = await check_url(
        httpx.URL("http://intranet.corp:9000/"), AllowList.parse(["intranet.corp"]), resolver=dns
    )

    assert dns.calls == [("intranet.corp", 9000)]
    assert [str(a) for a in target.addresses] == ["10.9.8.7"]


async def test_an_allowed_host_port_pair_opens_that_port_only() -> None:
    allow = AllowList.parse(["wiki.corp:8081"])
    dns = StubResolver({"wiki.corp": [["10.0.0.5"]]})

    await check_url(httpx.URL("http://wiki.corp:8081/"), allow, resolver=dns)
    with pytest.raises(FetchBlocked):
        await check_url(httpx.URL("http://wiki.corp:8082/"), allow, resolver=dns)


async def test_an_allowed_network_covers_only_its_addresses() -> None:
    allow = AllowList.parse(["10.20.0.0/16"])
    dns = StubResolver({"a.corp": [["10.20.1.1"]], "b.corp": [["10.20.1.1", "10.21.1.1"]]})

    await check_url(httpx.URL("http://a.corp:9000/"), allow, resolver=dns)
    with pytest.raises(FetchBlocked):
        await check_url(httpx.URL("http://b.corp/"), allow, resolver=dns)
    with pytest.raises(FetchBlocked):
        await check_url(httpx.URL("http://169.254.169.254/"), allow, resolver=dns)


async def test_a_host_that_does_not_resolve_is_fetch_failed() -> None:
    with pytest.raises(FetchFailed):
        await check_url(
            httpx.URL("http://nowhere.example/"), NOTHING_ALLOWED, resolver=StubResolver({})
        )
