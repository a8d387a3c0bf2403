"""fetch_page against loopback servers: pinned connections, a canary nobody reaches, redirects."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from app.errors import FetchBlocked, FetchFailed, FetchTimeout, InvalidRequest
from app.services.fetch import FetchPolicy, fetch_page, new_http_client
from app.services.fetch.netguard import AllowList, IPAddress, system_resolver
from tests.support.hostile import Canary, HostileServer, StubResolver, tls_for


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    """The hostile site, shared by the module."""
    with HostileServer() as server:
        yield server


@pytest.fixture
def canary() -> Iterator[Canary]:
    """A fresh loopback port that must see no connection."""
    port = Canary()
    yield port
    port.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The service's client, as the app builds it."""
    async with new_http_client(user_agent="secdigest-test", timeout=5.0) as client:
        yield client


def _policy(*allow: str, **overrides: Any) -> FetchPolicy:
    values: dict[str, Any] = {"allow": AllowList.parse(allow), "timeout": 3.0, "max_redirects": 3}
    values.update(overrides)
    return FetchPolicy(**values)


# --- one lookup, pinned connections -------------------------------------------------------


async def test_a_rebinding_host_is_looked_up_once_and_reached_at_its_first_answer(
    http: httpx.AsyncClient, hostile: HostileServer
) -> None:
    # The first answer (127.0.0.1, allowed: it stands for a public address) is the server;
    # the second is a canary on 127.0.0.2, same port: a second lookup would reach it.
    rebound = Canary("127.0.0.2", hostile.port)
    dns = StubResolver({"rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
    policy = _policy("127.0.0.1/32", resolver=dns)
    try:
        page = await fetch_page(http, policy, url=hostile.url("/article", host="rebind.test"))
        assert rebound.connections() == 0
    finally:
        rebound.close()

    assert page.status == 200
    assert dns.calls_for("rebind.test") == [("rebind.test", hostile.port)]
    # The request still names the host: virtual hosting and TLS work as without pinning.
    assert hostile.seen[-1].headers["host"] == f"rebind.test:{hostile.port}"


async def test_each_redirect_hop_is_looked_up_once_and_pinned(
    http: httpx.AsyncClient, hostile: HostileServer
) -> None:
    dns = StubResolver(
        {"first.test": [["127.0.0.1"], ["10.0.0.1"]], "second.test": [["127.0.0.1"], ["10.0.0.2"]]}
    )
    hop = quote(hostile.url("/article", host="second.test"), safe="")
    url = hostile.url(f"/redirect?to={hop}", host="first.test")

    page = await fetch_page(http, _policy("127.0.0.1/32", resolver=dns), url=url)

    assert page.final_url == hostile.url("/article", host="second.test")
    assert [host for host, _ in dns.calls] == ["first.test", "second.test"]


async def test_an_international_host_name_is_looked_up_and_pinned_in_its_ascii_form(
    http: httpx.AsyncClient, hostile: HostileServer
) -> None:
    dns = StubResolver({"xn--bcher-kva.test": [["127.0.0.1"]]})
    policy = _policy("127.0.0.1/32", resolver=dns)

    page = await fetch_page(http, policy, url=hostile.url("/article", host="Bücher.test"))

    assert page.status == 200
    assert hostile.seen[-1].headers["host"] == f"xn--bcher-kva.test:{hostile.port}"


async def test_the_next_checked_address_is_tried_when_the_first_does_not_answer(
    http: httpx.AsyncClient, hostile: HostileServer
) -> None:
    # Dual-stack names often list an IPv6 address first that cannot be reached.
    dns = StubResolver({"dual.test": [["::1", "127.0.0.1"]]})
    policy = _policy("127.0.0.1/32", "::1/128", resolver=dns)

    page = await fetch_page(http, policy, url=hostile.url("/article", host="dual.test"))

    assert page.status == 200


async def test_the_client_connects_nowhere_without_the_guard(
    http: httpx.AsyncClient, canary: Canary
) -> None:
    with pytest.raises(FetchBlocked):
        await http.get(canary.url())

    assert canary.connections() == 0


async def test_tls_is_checked_against_the_host_name_while_dialing_the_pinned_address() -> None:
    tls = tls_for("pinned.test")
    dns = StubResolver({"pinned.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]})
    policy = _policy("127.0.0.1/32", resolver=dns)
    with HostileServer(tls=tls.server) as server:
        async with new_http_client(user_agent="t", timeout=5.0, verify=tls.client) as http:
            page = await fetch_page(http, policy, url=server.url("/article", host="pinned.test"))
            assert page.status == 200
            assert tls.sni == ["pinned.test"]
            # The same address under a name the certificate does not carry is refused.
            with pytest.raises(FetchFailed):
                await fetch_page(http, policy, url=server.url("/article", host="other.test"))
    assert server.paths() == ["/article"]


async def test_proxies_in_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch, hostile: HostileServer, canary: Canary
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, canary.url())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    policy = _policy(f"127.0.0.1:{hostile.port}")

    async with new_http_client(user_agent="t", timeout=5.0) as http:
        page = await fetch_page(http, policy, url=hostile.url("/article"))

    assert page.status == 200
    assert canary.connections() == 0


# --- the canary: a blocked URL never connects -------------------------------------------

BLOCKED_FORMS = [
    "http://127.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://０ｘ７ｆ.0.0.1:{port}/",
    "http://１２７.０.０.１:{port}/",
    "http://127。0。0。1:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[::7f00:1]:{port}/",
    "http://[64:ff9b::7f00:1]:{port}/",
    "http://[2002:7f00:1::]:{port}/",
    "http://[::1]:{port}/",
    "http://localhost:{port}/",
    "http://0.0.0.0:{port}/",
    "http://0:{port}/",
    "http://[::]:{port}/",
    "http://user:secret@127.0.0.1:{port}/",
    "http://canary.test:{port}/",
    "http://rebind.test:{port}/",
]


@pytest.mark.parametrize("form", BLOCKED_FORMS)
async def test_a_blocked_url_never_reaches_the_canary(
    http: httpx.AsyncClient, canary: Canary, form: str
) -> None:
    # The canary's port is allowed: only the address (or the credentials) may stop these.
    dns = StubResolver(
        {"canary.test": [["127.0.0.1"]], "rebind.test": [["127.0.0.1"]]}, system_resolver
    )
    policy = _policy(ports=frozenset({canary.port}), resolver=dns)

    with pytest.raises(FetchBlocked):
        await fetch_page(http, policy, url=form.format(port=canary.port))

    assert canary.connections() == 0


@pytest.mark.parametrize(
    "form",
    [
        "http://127.0.0.1:{port}/",
        "http://canary.test:{port}/",
        "http://2130706433:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
    ],
)
async def test_a_redirect_from_an_allowed_site_never_reaches_the_canary(
    http: httpx.AsyncClient, hostile: HostileServer, canary: Canary, form: str
) -> None:
    dns = StubResolver({"canary.test": [["127.0.0.1"]]}, system_resolver)
    policy = _policy(f"127.0.0.1:{hostile.port}", ports=frozenset({80, canary.port}), resolver=dns)
    to = quote(form.format(port=canary.port), safe="")

    with pytest.raises(FetchBlocked):
        await fetch_page(http, policy, url=hostile.url(f"/redirect?to={to}"))

    assert canary.connections() == 0


async def test_a_location_httpx_cannot_read_ends_in_fetch_failed(
    http: httpx.AsyncClient, hostile: HostileServer, canary: Canary
) -> None:
    to = quote(f"http://0177.0.0.1:{canary.port}/", safe="")
    policy = _policy(f"127.0.0.1:{hostile.port}", ports=frozenset({canary.port}))

    with pytest.raises(FetchFailed):
        await fetch_page(http, policy, url=hostile.url(f"/redirect?to={to}"))

    assert canary.connections() == 0


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata", "/to-metadata-v6", "/to-file"])
async def test_redirects_to_internal_addresses_and_other_schemes_are_blocked(
    http: httpx.AsyncClient, hostile: HostileServer, path: str
) -> None:
    with pytest.raises(FetchBlocked):
        await fetch_page(http, _policy(f"127.0.0.1:{hostile.port}"), url=hostile.url(path))


# --- the deadline -----------------------------------------------------------------------


async def test_a_server_dripping_a_byte_a_second_is_cut_at_the_deadline(
    http: httpx.AsyncClient, hostile: HostileServer
) -> None:
    # Each byte comes well within the client's 5 s read timeout: only the deadline helps.
    policy = _policy(f"127.0.0.1:{hostile.port}", timeout=1.5)
    started = time.monotonic()

    with pytest.raises(FetchTimeout):
        await fetch_page(http, policy, url=hostile.url("/drip"))

    assert time.monotonic() - started < 1.5 + 1.0


async def test_a_resolver_that_never_answers_is_cut_at_the_deadline(
    http: httpx.AsyncClient,
) -> None:
    async def silent(host: str, port: int) -> list[IPAddress]:
        await asyncio.sleep(60)
        return []

    with pytest.raises(FetchTimeout):
        await fetch_page(http, _policy(timeout=0.2, resolver=silent), url="http://slow.test/")


# --- redirects, cookies ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/loop", "/loop-a"])
async def test_redirect_loops_end_in_fetch_failed(
    http: httpx.AsyncClient, hostile: HostileServer, path: str
) -> None:
    before = len(hostile.seen)

    with pytest.raises(FetchFailed, match="loop"):
        await fetch_page(http, _policy(f"127.0.0.1:{hostile.port}"), url=hostile.url(path))

    assert len(hostile.seen) - before == 4  # max_redirects + 1 requests, no more


async def test_redirect_chains_are_bounded(http: httpx.AsyncClient, hostile: HostileServer) -> None:
    url = hostile.url("/article")
    for _ in range(4):
        url = hostile.url(f"/redirect?to={quote(url, safe='')}")
    policy = _policy(f"127.0.0.1:{hostile.port}", max_redirects=3)

    with pytest.raises(FetchFailed, match="redirects"):
        await fetch_page(http, policy, url=url)
    assert (
        await fetch_page(http, _policy(f"127.0.0.1:{hostile.port}", max_redirects=4), url=url)
    ).status == 200


async def test_cookies_live_for_one_fetch_only(
    http: httpx.AsyncClient, hostile: HostileServer
) -> None:
    policy = _policy(f"127.0.0.1:{hostile.port}")

    page = await fetch_page(http, policy, url=hostile.url("/cookie-set"))
    assert page.status == 200  # the cookie went along to the next hop
    # A later fetch (another caller's, perhaps) does not carry it.
    await fetch_page(http, policy, url=hostile.url("/article"))
    assert "cookie" not in hostile.seen[-1].headers
    assert not http.cookies


async def test_only_bounded_encodings_are_asked_for(
    http: httpx.AsyncClient, hostile: HostileServer
) -> None:
    await fetch_page(http, _policy(f"127.0.0.1:{hostile.port}"), url=hostile.url("/article"))

    assert hostile.seen[-1].headers["accept-encoding"] == "gzip, deflate"


async def test_an_unparsable_url_is_invalid_request(http: httpx.AsyncClient) -> None:
    with pytest.raises(InvalidRequest):
        await fetch_page(http, _policy(), url="http://[not-an-address]/")


# --- failures are told in words ---------------------------------------------------------

# A fetch-failed detail is read by people (a feed's last error, a batch's problems): it
# names no exception class (`RemoteProtocolError`), no OpenSSL code
# (`CERTIFICATE_VERIFY_FAILED`), no library message (zlib's "Error -3 while ...").
_INTERNALS = re.compile(
    r"\b[A-Z][a-z0-9]+[A-Z]\w*|\b[A-Z]+_[A-Z_]+\b|Error|Exception|_ssl|httpx|httpcore|h11|zlib"
)


def said_in_words(error: FetchFailed) -> str:
    """The detail, once it is known to name nothing of our stack."""
    assert not _INTERNALS.search(error.detail), error.detail
    assert "\n" not in error.detail
    return error.detail


@pytest.fixture
def fetch_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The fetch module's log records: where the exception class does belong."""
    caplog.set_level(logging.INFO, logger="secdigest.fetch")
    return caplog


@pytest.mark.parametrize(
    ("path", "words", "logged"),
    [
        ("/close-before-answer", "closed the connection without answering", "RemoteProtocolError"),
        (
            "/close-mid-answer",
            "closed the connection before the page was complete",
            "RemoteProtocolError",
        ),
        ("/reset", "the connection was reset", "ReadError"),
        ("/garbage", "answered with something that is not HTTP", "RemoteProtocolError"),
        ("/bad-chunks", "malformed page body", "RemoteProtocolError"),
    ],
)
async def test_a_site_that_breaks_off_or_garbles_its_answer_is_told_in_words_and_logged_by_class(
    http: httpx.AsyncClient,
    hostile: HostileServer,
    fetch_log: pytest.LogCaptureFixture,
    path: str,
    words: str,
    logged: str,
) -> None:
    with pytest.raises(FetchFailed) as failed:
        await fetch_page(http, _policy(f"127.0.0.1:{hostile.port}"), url=hostile.url(path))

    assert words in said_in_words(failed.value)
    assert "fetch.failed host=127.0.0.1 " in fetch_log.text
    assert f"error={logged}" in fetch_log.text


async def test_a_broken_compressed_body_is_told_in_words_and_zlib_speaks_only_to_the_log(
    http: httpx.AsyncClient, hostile: HostileServer, fetch_log: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(FetchFailed) as failed:
        await fetch_page(
            http, _policy(f"127.0.0.1:{hostile.port}"), url=hostile.url("/broken-gzip")
        )

    assert "gzip compressed body is broken" in said_in_words(failed.value)
    assert "while decompressing data" in fetch_log.text


async def test_a_refused_connection_is_told_in_words_and_logged_by_class(
    http: httpx.AsyncClient, fetch_log: pytest.LogCaptureFixture
) -> None:
    # A port that was free a moment ago: nothing listens on it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])

    with pytest.raises(FetchFailed) as failed:
        await fetch_page(http, _policy(f"127.0.0.1:{port}"), url=f"http://127.0.0.1:{port}/")

    assert "the connection was refused" in said_in_words(failed.value)
    assert "error=ConnectError" in fetch_log.text


async def test_tls_to_a_plain_http_server_is_a_failed_handshake_told_in_words(
    http: httpx.AsyncClient, hostile: HostileServer, fetch_log: pytest.LogCaptureFixture
) -> None:
    url = hostile.url("/article").replace("http://", "https://", 1)

    with pytest.raises(FetchFailed) as failed:
        await fetch_page(http, _policy(f"127.0.0.1:{hostile.port}"), url=url)

    assert "the TLS handshake failed" in said_in_words(failed.value)
    assert "error=ConnectError" in fetch_log.text


@pytest.mark.parametrize(
    ("host", "trusted", "words"),
    [
        ("other.test", True, "its TLS certificate was refused (Hostname mismatch"),
        ("pinned.test", False, "its TLS certificate was refused (unable to get local issuer"),
    ],
)
async def test_a_refused_tls_certificate_is_told_in_openssls_words_not_its_codes(
    fetch_log: pytest.LogCaptureFixture, host: str, trusted: bool, words: str
) -> None:
    # The certificate names pinned.test and is signed by a CA only `trusted` clients know.
    tls = tls_for("pinned.test")
    dns = StubResolver({host: [["127.0.0.1"]]})
    with HostileServer(tls=tls.server) as server:
        verify = tls.client if trusted else True
        async with new_http_client(user_agent="t", timeout=5.0, verify=verify) as http:
            with pytest.raises(FetchFailed) as failed:
                await fetch_page(
                    http,
                    _policy("127.0.0.1/32", resolver=dns),
                    url=server.url("/article", host=host),
                )

    assert words in said_in_words(failed.value)
    assert "error=ConnectError" in fetch_log.text
    assert server.paths() == []  # no request went over the refused connection


async def test_an_unparsable_url_is_told_in_one_line_without_the_parsers_report(
    http: httpx.AsyncClient,
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await fetch_page(http, _policy(), url="http://[not-an-address]/")

    detail = refused.value.detail
    assert detail.startswith("not a valid URL: ")
    assert "IPv6 address" in detail  # what is wrong with it, in a line of words
    assert "\n" not in detail
    assert "pydantic" not in detail
    assert "input_type" not in detail
