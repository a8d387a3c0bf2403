"""`secdigest doctor`: is this installation ready to run? One result per check, no printing.

Public surface: `diagnose(settings, seconds=...)` → a list of `Check` (name, `Status`,
detail, hint); `settings_failure(error)` for settings that do not even load. Each check
reaches at most one thing (the database, the Redis, the model endpoint) and gives up after
`seconds`; the others only read the settings. Nothing is created or changed: a
SQLite file that does not exist yet is not created.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import openai
from alembic.script import ScriptDirectory
from redis.asyncio import Redis
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import async_url, create_engine, create_read_sessionmaker, is_sqlite
from app.migrate import alembic_config, current_revision, head_revision
from app.services import apikeys
from app.services.delivery import parse_smtp_url
from app.services.fetch import AllowList
from app.settings import Settings

MIGRATE = "secdigest migrate"
CREATE_KEY = "secdigest keys create --name NAME --scope read|write"
# An allowed network at least this large (addresses) is a hole in the guard, not an exception.
BROAD_IPV4_PREFIX = 16
BROAD_IPV6_PREFIX = 48
_LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_-]+)*\.?$")


class Status(StrEnum):
    """How a check went: FAIL stops the service (or a feature) from working."""

    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of the diagnosis: what was checked, how it went, and what to do about it."""

    name: str
    status: Status
    detail: str
    hint: str = ""


def settings_failure(error: Exception) -> Check:
    """The check of settings that do not load (a bad SECDIGEST_* value)."""
    first = str(error).strip().splitlines()
    summary = "; ".join(line.strip() for line in first[:3]) if first else type(error).__name__
    return Check(
        "settings", Status.FAIL, summary, "fix the SECDIGEST_* variable (environment or .env)"
    )


async def diagnose(settings: Settings, *, seconds: float = 5.0) -> list[Check]:
    """Every check, in the order a reader follows them: storage, queue, model, guard, delivery."""
    database, broker, model = await asyncio.gather(
        _database(settings, seconds), _broker(settings, seconds), _model(settings, seconds)
    )
    return [
        Check("settings", Status.OK, "environment and .env read"),
        *database,
        broker,
        *_cache(settings),
        model,
        _fetch_guard(settings),
        _mail(settings),
        _public_url(settings),
        _cors(settings),
    ]


# ---------------------------------------------------------------------------- database


def _where(database_url: str) -> str:
    """The database named without its password."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:
        return "(unreadable URL)"


async def _database(settings: Settings, seconds: float) -> list[Check]:
    where = _where(settings.database_url)
    try:
        url = async_url(settings.database_url)
    except Exception as exc:
        return [Check("database", Status.FAIL, f"{where}: {exc}", "check SECDIGEST_DATABASE_URL")]
    if _missing_sqlite_file(url):
        if settings.auto_migrate:
            detail = f"{where}: not created yet; the first command or `serve` creates it"
            return [Check("database", Status.OK, detail)]
        return [Check("database", Status.FAIL, f"{where}: does not exist", f"run `{MIGRATE}`")]
    engine = create_engine(settings.database_url)
    try:
        return await asyncio.wait_for(_database_state(settings, engine, where), seconds)
    except TimeoutError:
        hint = "is the server up, and reachable from here? (host, port, firewall)"
        return [Check("database", Status.FAIL, f"{where}: no answer in {seconds:g} s", hint)]
    except Exception as exc:
        hint = "is the server up, and the URL's host, port, user and password right?"
        reason = _reason(exc)
        return [Check("database", Status.FAIL, f"{where}: cannot connect ({reason})", hint)]
    finally:
        await engine.dispose()


def _missing_sqlite_file(url: URL) -> bool:
    """Whether the URL names a SQLite file that does not exist (connecting would create it)."""
    if not is_sqlite(url) or url.database in (None, "", ":memory:"):
        return False
    return not Path(url.database or "").expanduser().exists()


async def _database_state(settings: Settings, engine: AsyncEngine, where: str) -> list[Check]:
    revision = await current_revision(engine)
    head = head_revision()
    if revision == head:
        database = Check("database", Status.OK, f"{where}: at migration {head} (the code's head)")
        return [database, await _keys(engine)]
    known = revision is None or _known_revision(revision)
    if not known:
        detail = f"{where}: at migration {revision}, unknown to this code (head {head})"
        return [Check("database", Status.FAIL, detail, "a newer release migrated it: upgrade")]
    detail = f"{where}: at migration {revision or 'none'}, the code is at {head}"
    if settings.auto_migrate:
        return [Check("database", Status.WARN, detail, "`serve` and `worker` migrate it on start")]
    hint = f"run `{MIGRATE}` (SECDIGEST_AUTO_MIGRATE is false)"
    return [Check("database", Status.FAIL, detail, hint)]


def _known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:
        return False


async def _keys(engine: AsyncEngine) -> Check:
    async with create_read_sessionmaker(engine)() as session:
        exists = await apikeys.has_active_key(session)
    if exists:
        detail = "at least one active key: `serve --host` binds as asked"
        return Check("api keys", Status.OK, detail)
    detail = "none: open mode, the API serves this machine only (`serve` binds loopback)"
    return Check("api keys", Status.OK, detail, f"to serve others: `{CREATE_KEY}`")


def _reason(exc: BaseException) -> str:
    """A short reason, without the URL (which may hold a password)."""
    # openai says "Connection error." and keeps what happened as the cause.
    while exc.__cause__ is not None and (not str(exc) or isinstance(exc, openai.APIError)):
        exc = exc.__cause__
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = re.sub(r"\w+://\S+", "<url>", text)[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ---------------------------------------------------------------------------- Redis


async def _ping(url: str, seconds: float) -> str | None:
    """None when the Redis answers PING, else why not."""
    try:
        client = Redis.from_url(url, socket_connect_timeout=seconds, socket_timeout=seconds)
    except ValueError as exc:
        return str(exc)
    try:
        await asyncio.wait_for(client.ping(), seconds)
    except TimeoutError:
        return f"no answer in {seconds:g} s"
    except Exception as exc:
        return _reason(exc)
    finally:
        await client.aclose()
    return None


async def _broker(settings: Settings, seconds: float) -> Check:
    if not settings.broker_url:
        detail = "in-process: jobs run in the server (SECDIGEST_BROKER_URL for workers)"
        return Check("broker", Status.OK, detail)
    where = _where(settings.broker_url)
    if not settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
        return Check("broker", Status.FAIL, f"{where}: not a Redis URL", "redis://host:6379/0")
    failure = await _ping(settings.broker_url, seconds)
    if failure is None:
        return Check("broker", Status.OK, f"{where}: Redis answers (queue {settings.broker_queue})")
    return Check("broker", Status.FAIL, f"{where}: {failure}", "is Redis up and reachable?")


def _cache(settings: Settings) -> list[Check]:
    """The shared read cache, when it is not the broker's Redis (that one is pinged above)."""
    shared = settings.shared_cache_url
    if shared is None or shared == settings.broker_url:
        return []
    if not shared.startswith(("redis://", "rediss://", "unix://")):
        hint = "redis://host:6379/1, or none to keep rendered days per process"
        return [Check("read cache", Status.FAIL, f"{_where(shared)}: not a Redis URL", hint)]
    return [Check("read cache", Status.OK, f"{_where(shared)}: shared between processes")]


# ---------------------------------------------------------------------------- model


async def _model(settings: Settings, seconds: float) -> Check:
    if not settings.llm_configured:
        detail = "offline engine (extractive): no SECDIGEST_LLM_BASE_URL or key set"
        return Check("model", Status.OK, detail)
    where = settings.llm_base_url or "OpenAI's API"
    client = openai.AsyncOpenAI(
        base_url=settings.llm_base_url,
        api_key=settings.effective_llm_api_key or "not-needed",
        timeout=seconds,
        max_retries=0,
    )
    hint = "is the endpoint up and SECDIGEST_LLM_BASE_URL right? (summaries fall back offline)"
    try:
        # One token: the cheapest call every OpenAI-compatible server answers (not all list
        # their models).
        await asyncio.wait_for(
            client.chat.completions.create(
                model=settings.llm_model,
                messages=[{"role": "user", "content": "Reply with OK."}],
                max_tokens=1,
            ),
            seconds,
        )
    except (TimeoutError, openai.APITimeoutError):
        return Check("model", Status.FAIL, f"{where}: no answer in {seconds:g} s", hint)
    except openai.AuthenticationError:
        return Check("model", Status.FAIL, f"{where}: the key was refused", "check the API key")
    except openai.NotFoundError:
        detail = f"{where}: no model {settings.llm_model!r} (or no chat completions there)"
        return Check("model", Status.FAIL, detail, "check SECDIGEST_LLM_MODEL and the base URL")
    except openai.APIStatusError as exc:
        return Check("model", Status.FAIL, f"{where}: answered {exc.status_code}", hint)
    except (openai.APIConnectionError, OSError) as exc:
        return Check("model", Status.FAIL, f"{where}: cannot connect ({_reason(exc)})", hint)
    finally:
        await client.close()
    return Check("model", Status.OK, f"{where}: {settings.llm_model} answers")


# ---------------------------------------------------------------------------- settings only


def _fetch_guard(settings: Settings) -> Check:
    if not settings.fetch_allow:
        ports = ",".join(map(str, settings.fetch_ports))
        return Check("fetch guard", Status.OK, f"public addresses only, ports {ports}")
    problems = [problem for entry in settings.fetch_allow if (problem := _allow_problem(entry))]
    entries = len(settings.fetch_allow)
    if problems:
        detail = f"{entries} allowed: " + "; ".join(problems)
        hint = "fetches and webhooks may reach those: allow only what must be fetched"
        return Check("fetch guard", Status.WARN, detail, hint)
    return Check("fetch guard", Status.OK, f"{entries} allowed: " + ", ".join(settings.fetch_allow))


def _allow_problem(entry: str) -> str | None:
    """What is wrong with one SECDIGEST_FETCH_ALLOW entry, as the guard reads it, if anything."""
    allowed = AllowList.parse([entry])
    for network in allowed.networks:
        broad = BROAD_IPV4_PREFIX if network.version == 4 else BROAD_IPV6_PREFIX
        if network.prefixlen < broad:
            return f"{network} is a broad range"
        if not network.is_global:
            return f"{network} is internal"
    raw = entry.strip().lower()
    for host in allowed.hosts | {host for host, _ in allowed.host_ports}:
        written = raw.rpartition(":")[0] if allowed.host_ports else raw
        if host != written.strip("[]") and host != written:
            return f"{entry.strip()!r} is read as the host {host!r}"
        if not _HOST_NAME.match(host) and not _is_address(host):
            return f"{entry.strip()!r} is neither a host, an address nor a network"
        if host in ("localhost", "metadata.google.internal") or _is_internal_address(host):
            return f"{host} is internal"
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_internal_address(host: str) -> bool:
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return False


def _mail(settings: Settings) -> Check:
    if not settings.smtp_url:
        if settings.mail_to:
            hint = "set SECDIGEST_SMTP_URL, e.g. smtp://user:password@mail.example.org:587"
            return Check("mail", Status.WARN, "SECDIGEST_MAIL_TO set but no SMTP server", hint)
        return Check("mail", Status.OK, "off (no SECDIGEST_SMTP_URL)")
    try:
        target = parse_smtp_url(settings.smtp_url)
    except ValueError as exc:
        return Check("mail", Status.FAIL, str(exc), "smtp://user:password@host:587 or smtps://")
    server = f"{target} ({target.security.value})"
    if not settings.mail_to:
        return Check("mail", Status.WARN, f"{server}, no recipient", "set SECDIGEST_MAIL_TO")
    recipients = ", ".join(settings.mail_to)
    return Check("mail", Status.OK, f"{server} to {recipients} (not contacted)")


def _public_url(settings: Settings) -> Check:
    if not settings.public_url:
        detail = "unset: webhooks, Slack and mail link to the sources only"
        return Check("public url", Status.OK, detail)
    parts = urlsplit(settings.public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        hint = "an absolute URL, e.g. https://secdigest.example.org"
        detail = f"{settings.public_url!r} is not an http(s) URL"
        return Check("public url", Status.FAIL, detail, hint)
    if parts.scheme == "http" and parts.hostname not in _LOCAL_NAMES:
        hint = "readers send their key to it: serve over HTTPS (a reverse proxy)"
        return Check("public url", Status.WARN, f"{settings.public_url} is plain HTTP", hint)
    return Check("public url", Status.OK, settings.public_url)


def _cors(settings: Settings) -> Check:
    origins = settings.cors_origins  # exact origins: the settings refuse `*` and paths
    if not origins:
        return Check("cors", Status.OK, "off: no browser page of another site may call the API")
    plain = [
        origin
        for origin in origins
        if origin.startswith("http://") and urlsplit(origin).hostname not in _LOCAL_NAMES
    ]
    if plain:
        hint = "a page served over plain HTTP can be changed on the way: use https:// origins"
        return Check("cors", Status.WARN, "plain HTTP origins: " + ", ".join(plain), hint)
    return Check("cors", Status.OK, "allowed origins: " + ", ".join(origins))
