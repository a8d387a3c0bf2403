"""API keys over HTTP: who may call what, open mode, rate limits, nothing leaked in logs."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import version

import httpx
import pytest
from fastapi import FastAPI

from app.db import session_scope
from app.logs import log_handler
from app.main import create_app
from app.services import apikeys
from app.settings import Settings
from app.state import AppState
from tests.support.databases import empty_all_tables

IOCS = {"text": "beacon to hxxps://evil[.]com/gate and 45.137.21[.]9"}


async def _create(app: FastAPI, name: str, scope: str) -> str:
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        return (await apikeys.create_key(session, name=name, scope=scope)).key


async def _revoke(app: FastAPI, name: str) -> None:
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        await apikeys.revoke_key(session, name=name)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def keys(app: FastAPI) -> dict[str, str]:
    """A read key and a write key: the API is closed from now on."""
    return {
        "read": await _create(app, "frontend", "read"),
        "write": await _create(app, "soar", "write"),
    }


def _remote(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://secdigest.test")


LimitedApp = Callable[..., AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]]


@pytest.fixture
def limited(settings: Settings) -> LimitedApp:
    """An app (and a loopback client) with its own rate limits, e.g. "3/minute"."""

    @asynccontextmanager
    async def make(
        rate: str, fail_rate: str = "100000/minute"
    ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        application = create_app(
            settings.model_copy(update={"rate_limit": rate, "auth_fail_limit": fail_rate})
        )
        async with application.router.lifespan_context(application):
            await empty_all_tables(application.state.secdigest.engine)
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://localhost"
            ) as client:
                yield application, client

    return make


def _is_problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"/problems/{slug}"


# ---------------------------------------------------------------------------- open mode


async def test_without_any_key_the_api_is_open_to_this_machine(client: httpx.AsyncClient) -> None:
    assert (await client.get("/reports")).status_code == 200
    assert (await client.post("/iocs", json=IOCS)).status_code == 200


async def test_without_any_key_other_machines_are_refused(app: FastAPI) -> None:
    async with _remote(app) as remote:
        refused = await remote.get("/reports")
        health = await remote.get("/healthz")
    _is_problem(refused, 401, "unauthorized")
    assert "keys create" in refused.json()["detail"]
    assert health.status_code == 200


async def test_revoking_every_key_does_not_open_the_api_to_other_machines(app: FastAPI) -> None:
    key = await _create(app, "soar", "write")
    async with _remote(app) as remote:
        assert (await remote.get("/reports", headers=bearer(key))).status_code == 200
        await _revoke(app, "soar")
        _is_problem(await remote.get("/reports"), 401, "unauthorized")
        _is_problem(await remote.get("/reports", headers=bearer(key)), 401, "unauthorized")


@pytest.mark.parametrize(
    "host", ["rebind.attacker.example", "rebind.attacker.example:8000", "10.0.0.5", "[::2]"]
)
async def test_without_any_key_a_host_name_that_is_not_this_machine_is_refused(
    client: httpx.AsyncClient, host: str
) -> None:
    # DNS rebinding: a page of attacker.example resolved its name to 127.0.0.1.
    headers = {"Host": host}
    _is_problem(await client.post("/iocs", json=IOCS, headers=headers), 403, "forbidden")
    _is_problem(await client.get("/reports", headers=headers), 403, "forbidden")


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "app.localhost"]
)
async def test_without_any_key_loopback_host_names_are_served(
    client: httpx.AsyncClient, host: str
) -> None:
    assert (await client.post("/iocs", json=IOCS, headers={"Host": host})).status_code == 200


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://rebind.attacker.example:8000"]
)
async def test_without_any_key_a_write_from_another_sites_page_is_refused(
    client: httpx.AsyncClient, origin: str
) -> None:
    headers = {"Origin": origin}
    _is_problem(await client.post("/iocs", json=IOCS, headers=headers), 403, "forbidden")
    pull = await client.post("/feeds/pull", headers={**headers, "Content-Type": "text/plain"})
    _is_problem(pull, 403, "forbidden")
    # Reading is harmless: without CORS the page cannot see the answer.
    assert (await client.get("/reports", headers=headers)).status_code == 200


async def test_without_any_key_a_page_of_this_machine_may_write(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Origin": "http://localhost:5173"}
    assert (await client.post("/iocs", json=IOCS, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
async def test_a_json_route_refuses_a_body_of_another_type_with_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    # What a cross-site form or fetch() can send without a preflight.
    body = b'{"text": "beacon to hxxps://evil[.]com/gate"}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/iocs", content=body, headers=headers)
    _is_problem(response, 415, "unsupported-media-type")
    json_variant = {"Content-Type": "application/json; charset=utf-8"}
    assert (await client.post("/iocs", content=body, headers=json_variant)).status_code == 200


async def test_with_keys_any_host_name_is_served_and_bodies_are_still_json(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    # Behind a reverse proxy the Host is the public name; the key is what counts.
    headers = {**bearer(keys["write"]), "Host": "secdigest.corp.example"}
    assert (await client.post("/iocs", json=IOCS, headers=headers)).status_code == 200
    text = await client.post(
        "/iocs", content=b'{"text": "x"}', headers={**headers, "Content-Type": "text/plain"}
    )
    _is_problem(text, 415, "unsupported-media-type")


# ---------------------------------------------------------------------------- keys


async def test_a_request_without_a_key_is_401_once_a_key_exists(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await client.get("/reports")
    _is_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    _is_problem(await client.get("/no/such/route"), 401, "unauthorized")  # deny by default


async def test_bearer_and_x_api_key_both_work(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    assert (await client.get("/reports", headers=bearer(keys["read"]))).status_code == 200
    assert (await client.get("/reports", headers={"X-API-Key": keys["read"]})).status_code == 200
    lower = {"Authorization": f"bearer {keys['read']}"}
    assert (await client.get("/reports", headers=lower)).status_code == 200


async def test_http_basic_takes_the_key_as_password_whatever_the_user_name(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    # What taxii2-client and OpenCTI's TAXII connector send.
    for user in ("taxii", "", "opencti"):
        answer = await client.get("/reports", auth=httpx.BasicAuth(user, keys["read"]))
        assert answer.status_code == 200, user
    wrong = await client.get("/reports", auth=httpx.BasicAuth(keys["read"], "nope"))
    _is_problem(wrong, 401, "unauthorized")
    assert "Basic" in wrong.headers["www-authenticate"]
    garbled = await client.get("/reports", headers={"Authorization": "Basic %%%"})
    _is_problem(garbled, 401, "unauthorized")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer sd_00000000_" + "A" * 43},
        {"Authorization": "Basic c29hcjpzZWNyZXQ="},
        {"Authorization": "Bearer"},
        {"X-API-Key": "guess"},
    ],
)
async def test_a_wrong_key_is_401(
    client: httpx.AsyncClient, keys: dict[str, str], headers: dict[str, str]
) -> None:
    _is_problem(await client.get("/reports", headers=headers), 401, "unauthorized")


async def test_two_keys_in_one_request_are_refused(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    both = {**bearer(keys["write"]), "X-API-Key": keys["write"]}
    _is_problem(await client.get("/reports", headers=both), 401, "unauthorized")


async def test_a_revoked_key_is_401_at_the_next_request(
    app: FastAPI, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    assert (await client.get("/reports", headers=bearer(keys["write"]))).status_code == 200
    await _revoke(app, "soar")
    _is_problem(await client.get("/reports", headers=bearer(keys["write"])), 401, "unauthorized")


async def test_a_read_key_reads_but_cannot_write(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    read = bearer(keys["read"])
    assert (await client.get("/reports", headers=read)).status_code == 200
    response = await client.post("/feeds", json={"url": "https://news.example/feed"}, headers=read)
    _is_problem(response, 403, "forbidden")
    assert "frontend" in response.json()["detail"]
    _is_problem(await client.delete("/reports/2024-12-06/items/1", headers=read), 403, "forbidden")


async def test_a_read_key_may_post_what_only_reads(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    read = bearer(keys["read"])
    assert (await client.post("/iocs", json=IOCS, headers=read)).status_code == 200
    lookup = await client.post("/indicators/lookup", json={"values": ["evil.com"]}, headers=read)
    assert lookup.status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "403" not in spec["paths"]["/indicators/lookup"]["post"]["responses"]


async def test_webhooks_need_a_write_key_even_to_read_them(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    # A Slack or Teams webhook URL is a secret of its own.
    read, write = bearer(keys["read"]), bearer(keys["write"])
    _is_problem(await client.get("/webhooks", headers=read), 403, "forbidden")
    assert (await client.get("/webhooks", headers=write)).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "403" in spec["paths"]["/webhooks"]["get"]["responses"]


async def test_a_write_key_writes(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await client.post("/iocs", json=IOCS, headers=bearer(keys["write"]))
    assert response.status_code == 200
    assert "45.137.21.9" in {ioc["value"] for ioc in response.json()["iocs"]}


async def test_probes_and_the_contract_stay_open_metrics_do_not(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert (await client.get(path)).status_code == 200, path
    _is_problem(await client.get("/metrics"), 401, "unauthorized")
    assert (await client.get("/metrics", headers=bearer(keys["read"]))).status_code == 200


async def test_openapi_documents_the_keys(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    post = spec["paths"]["/summarize"]["post"]
    assert post["security"] == [{"bearer": []}, {"apiKey": []}]
    assert {"401", "403", "429"} <= set(post["responses"])
    assert "403" not in spec["paths"]["/reports"]["get"]["responses"]
    assert "security" not in spec["paths"]["/healthz"]["get"]


async def test_an_idempotent_replay_is_not_served_without_a_key(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    headers = {**bearer(keys["write"]), "Idempotency-Key": "run-4711"}
    assert (await client.post("/iocs", json=IOCS, headers=headers)).status_code == 200
    anonymous = await client.post("/iocs", json=IOCS, headers={"Idempotency-Key": "run-4711"})
    _is_problem(anonymous, 401, "unauthorized")


async def test_use_is_recorded_and_no_key_is_ever_logged(
    app: FastAPI,
    client: httpx.AsyncClient,
    keys: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = keys["write"][:-1] + ("A" if keys["write"][-1] != "A" else "B")
    with caplog.at_level(logging.DEBUG):
        await client.get("/reports", headers=bearer(keys["write"]))
        await client.get("/reports", headers=bearer(wrong))
        await client.post("/feeds/pull", json={}, headers={"X-API-Key": keys["read"]})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "auth.denied" in logged
    assert "auth.forbidden" in logged
    for secret in (keys["write"], keys["read"], wrong):
        assert secret not in logged
        assert secret[apikeys.PREFIX_LENGTH :] not in logged
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        used = {k.name: k.last_used_at for k in await apikeys.list_keys(session)}
    assert used["soar"] is not None


# ---------------------------------------------------------------------------- rate limits


async def test_a_key_past_its_limit_gets_429_with_retry_after(limited: LimitedApp) -> None:
    async with limited("3/minute") as (app, client):
        first, second = await _create(app, "soar", "write"), await _create(app, "tines", "read")
        answers = [await client.get("/reports", headers=bearer(first)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        _is_problem(answers[-1], 429, "rate-limited")
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
        # Per key: another key (from the same address) has its own budget.
        assert (await client.get("/reports", headers=bearer(second))).status_code == 200
        assert (await client.get("/healthz")).status_code == 200  # probes are never limited


async def test_without_keys_the_limit_is_per_client_address(limited: LimitedApp) -> None:
    async with limited("2/minute") as (_app, client):
        statuses = [(await client.post("/iocs", json=IOCS)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


@pytest.mark.parametrize(
    "headers", [{"Authorization": "Bearer sd_00000000_" + "A" * 43}, {}], ids=["wrong", "none"]
)
async def test_an_address_failing_to_authenticate_is_slowed_down(
    limited: LimitedApp, headers: dict[str, str]
) -> None:
    async with limited("100/minute", fail_rate="2/minute") as (app, client):
        await _create(app, "soar", "write")
        statuses = [(await client.get("/reports", headers=headers)).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
        assert int((await client.get("/reports")).headers["retry-after"]) >= 1


async def test_failed_logins_from_an_address_never_lock_out_a_valid_key(
    limited: LimitedApp,
) -> None:
    # Behind a reverse proxy every client has the proxy's address: junk from anyone must
    # not stop the SOAR's key.
    async with limited("3/minute", fail_rate="3/minute") as (app, client):
        key = await _create(app, "soar", "write")
        junk = bearer("sd_00000000_" + "A" * 43)
        statuses = [(await client.get("/reports", headers=junk)).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]

        assert (await client.get("/reports", headers=bearer(key))).status_code == 200
        assert (await client.post("/iocs", json=IOCS, headers=bearer(key))).status_code == 200
        # The failures are still counted: junk stays slowed down.
        assert (await client.get("/reports", headers=junk)).status_code == 429


@pytest.mark.parametrize(
    ("field", "variable"),
    [("rate_limit", "SECDIGEST_RATE_LIMIT"), ("auth_fail_limit", "SECDIGEST_AUTH_FAIL_LIMIT")],
)
def test_a_bad_rate_limit_stops_the_app_at_creation(
    settings: Settings, field: str, variable: str
) -> None:
    with pytest.raises(ValueError, match=variable):
        create_app(settings.model_copy(update={field: "lots"}))


async def test_a_newline_in_the_path_cannot_forge_a_log_line(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    forged = "2026-12-07 10:00:00,000 INFO secdigest.security request_id=- auth.ok key=soar"
    stream = io.StringIO()
    handler = log_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        response = await client.get(f"/reports%0A{forged.replace(' ', '%20')}")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    _is_problem(response, 401, "unauthorized")
    # Each line is one of our events: date, level, logger, request id, then the event name.
    events = [line.split(" ", 6)[5] for line in stream.getvalue().splitlines()]
    assert "auth.denied" in events
    assert "http.request" in events
    assert "auth.ok" not in events
    assert not any(
        line.startswith("2026-12-07 10:00:00") for line in stream.getvalue().splitlines()
    )


async def test_the_release_in_the_openapi_is_shown_only_to_callers_with_a_key(
    app: FastAPI, client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    anonymous = await client.get("/openapi.json")
    with_key = await client.get("/openapi.json", headers=bearer(keys["read"]))
    wrong_key = await client.get("/openapi.json", headers=bearer("sd_00000000_" + "A" * 43))

    assert anonymous.status_code == with_key.status_code == wrong_key.status_code == 200
    assert with_key.json()["info"]["version"] == version("secdigest")
    for public in (anonymous, wrong_key):
        assert public.json()["info"]["version"] not in (version("secdigest"), "")
        assert public.json()["paths"] == with_key.json()["paths"]  # the contract is public


async def test_without_keys_this_machine_sees_the_release_other_machines_do_not(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/openapi.json")).json()["info"]["version"] == version("secdigest")
    async with _remote(app) as remote:
        described = (await remote.get("/openapi.json")).json()
    assert described["info"]["version"] != version("secdigest")
