"""API keys at rest, their lookup, the serve binding rule, and the `secdigest keys` commands."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.cli import main
from app.db import session_scope
from app.errors import InvalidRequest, NotFound
from app.http.open_mode import bind_host, is_loopback, open_mode_warning, serve_host
from app.http.security import route_path
from app.models.types import utcnow
from app.services import apikeys
from app.settings import Settings, get_settings
from app.state import AppState


def _state(app: FastAPI) -> AppState:
    state: AppState = app.state.secdigest
    return state


# ---------------------------------------------------------------------------- pure


def test_a_key_is_a_public_prefix_and_256_random_bits() -> None:
    key, prefix = apikeys.generate_key()
    assert apikeys.looks_like_key(key)
    assert key.startswith(prefix + "_")
    assert len(prefix) == apikeys.PREFIX_LENGTH
    assert len(key) - len(prefix) - 1 == 43  # token_urlsafe(32): 32 bytes, base64url
    assert apikeys.generate_key()[0] != key


def test_the_stored_hash_is_sha256_of_the_whole_key() -> None:
    key, _ = apikeys.generate_key()
    assert apikeys.hash_key(key) == hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.parametrize(
    ("requested", "keys_exist", "bound"),
    [
        ("0.0.0.0", False, "127.0.0.1"),
        ("::", False, "::1"),
        ("10.0.0.5", False, "127.0.0.1"),
        ("secdigest.corp.example", False, "127.0.0.1"),
        ("127.0.0.1", False, "127.0.0.1"),
        ("localhost", False, "localhost"),
        ("::1", False, "::1"),
        ("0.0.0.0", True, "0.0.0.0"),
        ("::", True, "::"),
    ],
)
def test_serve_binds_loopback_unless_a_key_exists(
    requested: str, keys_exist: bool, bound: str
) -> None:
    assert bind_host(requested, keys_exist=keys_exist) == bound


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("10.1.2.3", False),
        ("::ffff:10.1.2.3", False),
        ("0.0.0.0", False),
        ("testclient", False),
        (None, False),
    ],
)
def test_loopback_is_judged_by_address(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_open_mode_warning_says_what_was_bound_and_how_to_create_a_key() -> None:
    warning = open_mode_warning("0.0.0.0", "127.0.0.1")
    assert "WARNING" in warning
    assert "127.0.0.1" in warning
    assert "secdigest keys create --name NAME --scope read|write" in warning
    assert "WARNING" not in open_mode_warning("127.0.0.1", "127.0.0.1")


def test_the_route_path_drops_the_root_path_as_the_router_does() -> None:
    assert route_path({"path": "/api/healthz", "root_path": "/api"}) == "/healthz"
    assert route_path({"path": "/apihealthz", "root_path": "/api"}) == "/apihealthz"
    assert route_path({"path": "/healthz"}) == "/healthz"


# ---------------------------------------------------------------------------- storage


async def test_keys_are_hashed_at_rest(app: FastAPI) -> None:
    async with session_scope(_state(app).sessionmaker) as session:
        created = await apikeys.create_key(session, name="soar", scope="write")
    async with _state(app).engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM api_keys"))).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert created.key not in stored
    assert created.key.split("_")[-1] not in stored  # nor its secret part
    assert apikeys.hash_key(created.key) in stored
    assert created.record.prefix in stored


async def test_only_the_exact_active_key_is_found(app: FastAPI) -> None:
    async with session_scope(_state(app).sessionmaker) as session:
        created = await apikeys.create_key(session, name="soar", scope="read")
        key = created.key
        assert (await apikeys.find_key(session, key)) is created.record
        flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
        assert await apikeys.find_key(session, flipped) is None
        other_prefix = "sd_00000000" + key[apikeys.PREFIX_LENGTH :]
        assert await apikeys.find_key(session, other_prefix) is None
        assert await apikeys.find_key(session, "not a key") is None
        assert await apikeys.find_key(session, "") is None
        await apikeys.revoke_key(session, name="soar")
        found = await apikeys.find_key(session, key)
        assert found is not None
        assert not found.active


async def test_names_are_unique_even_after_revocation(app: FastAPI) -> None:
    async with session_scope(_state(app).sessionmaker) as session:
        await apikeys.create_key(session, name="soar", scope="read")
        with pytest.raises(InvalidRequest, match="exists"):
            await apikeys.create_key(session, name="soar", scope="write")
        await apikeys.revoke_key(session, name="soar")
        with pytest.raises(InvalidRequest, match="exists"):
            await apikeys.create_key(session, name="soar", scope="read")


@pytest.mark.parametrize(("name", "scope"), [("", "read"), ("a b", "read"), ("x\n", "read")])
async def test_bad_names_and_scopes_are_refused(app: FastAPI, name: str, scope: str) -> None:
    async with session_scope(_state(app).sessionmaker) as session:
        with pytest.raises(InvalidRequest):
            await apikeys.create_key(session, name=name, scope=scope)
        with pytest.raises(InvalidRequest, match="scope"):
            await apikeys.create_key(session, name="ok", scope="admin")


async def test_open_mode_lasts_until_a_key_exists_and_returns_when_all_are_revoked(
    app: FastAPI,
) -> None:
    async with session_scope(_state(app).sessionmaker) as session:
        assert not await apikeys.has_active_key(session)
        await apikeys.create_key(session, name="soar", scope="read")
        assert await apikeys.has_active_key(session)
        revoked = await apikeys.revoke_key(session, name="soar")
        first_revocation = revoked.revoked_at
        assert not await apikeys.has_active_key(session)
        assert (await apikeys.revoke_key(session, name="soar")).revoked_at == first_revocation
        with pytest.raises(NotFound):
            await apikeys.revoke_key(session, name="nobody")


async def test_last_use_is_written_at_most_once_a_minute(app: FastAPI) -> None:
    now = utcnow()
    async with session_scope(_state(app).sessionmaker) as session:
        record = (await apikeys.create_key(session, name="soar", scope="read")).record
        await apikeys.mark_used(session, record.id, now)
        await apikeys.mark_used(session, record.id, now + timedelta(seconds=30))
        await session.refresh(record)
        assert record.last_used_at == now
        later = now + timedelta(seconds=61)
        await apikeys.mark_used(session, record.id, later)
        await session.refresh(record)
        assert record.last_used_at == later


async def test_serve_reads_the_keys_from_the_database(app: FastAPI) -> None:
    state = _state(app)
    assert await serve_host(state, "0.0.0.0") == "127.0.0.1"
    async with session_scope(state.sessionmaker) as session:
        await apikeys.create_key(session, name="soar", scope="read")
    assert await serve_host(state, "0.0.0.0") == "0.0.0.0"


async def test_serve_binds_loopback_when_the_keys_cannot_be_read(tmp_path: Path) -> None:
    unmigrated = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'new.db'}")
    state = AppState.open(unmigrated)
    try:
        assert await serve_host(state, "0.0.0.0") == "127.0.0.1"
    finally:
        await state.close()


# ---------------------------------------------------------------------------- command line


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite file for `secdigest` run in process (settings read from the env)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SECDIGEST_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_keys_create_list_revoke_round_trip(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--name", "soar", "--scope", "write"]) == 0
    created = capsys.readouterr()
    key = created.out.strip()
    assert apikeys.looks_like_key(key)
    assert "not shown again" in created.err
    assert key not in created.err

    assert main(["keys", "create", "--name", "soar", "--scope", "read"]) == 1
    assert "exists" in capsys.readouterr().err

    assert main(["keys", "create", "--name", "frontend", "--scope", "read"]) == 0
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["NAME", "SCOPE", "PREFIX", "CREATED", "LAST", "USED", "REVOKED"]
    assert listing[1].split()[:3] == ["soar", "write", key[: apikeys.PREFIX_LENGTH]]
    assert listing[1].endswith("-")  # not revoked
    assert key not in "\n".join(listing)

    assert main(["keys", "revoke", "soar"]) == 0
    assert "revoked key 'soar'" in capsys.readouterr().out
    assert main(["keys", "list"]) == 0
    soar = capsys.readouterr().out.splitlines()[1]
    assert soar.startswith("soar")
    assert not soar.endswith("-")  # revoked at a time

    assert main(["keys", "revoke", "nobody"]) == 1
    assert "not-found" in capsys.readouterr().err
