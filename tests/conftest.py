"""Fixtures shared by every suite."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import app.models
from app.main import create_app
from app.services.summarize.llm import LLMEngine, build_llm_engine
from app.settings import Settings
from app.state import AppState
from tests.support.databases import backends, empty_all_tables, migrated_database
from tests.support.model_server import ModelServer, running_model_server
from tests.support.site import FixtureSite, SiteServer

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A command run in process sets up logging as a process does (its root handler and
    level, quiet libraries, a thread hook): put everything back for the next test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("alembic", "httpx", "instructor")}
    hook = threading.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, kept in levels.items():
        logging.getLogger(name).setLevel(kept)
    threading.excepthook = hook


@pytest.fixture(scope="session", params=backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend, shared by the session and emptied per test."""
    with migrated_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        yield url


@pytest.fixture(scope="session")
def site() -> Iterator[FixtureSite]:
    """The fixture web site on loopback."""
    with SiteServer() as running:
        yield running


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a test: the test database, loopback allowed, Japanese digest."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        fetch_allow=["127.0.0.1"],
        fetch_timeout=5.0,
        # Bursts of test requests come from one address; rate limits have their own tests.
        rate_limit="100000/minute",
        lang="ja",
        timezone="Asia/Tokyo",
        # Pulls happen when a test asks for them (the schedule has its own test).
        feed_schedule=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application with its lifespan running, on an empty database."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        state: AppState = application.state.secdigest
        await empty_all_tables(state.engine)
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app (in process, through its ASGI interface)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        yield c


@pytest.fixture
def sample_markdown() -> str:
    """The analysts' real digest, the golden file of the Markdown format."""
    # A byte-for-byte copy of shared/examples/daily-security-info.md.
    return (FIXTURES / "daily-security-info.md").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def model_server() -> Iterator[ModelServer]:
    """The OpenAI-compatible model server on loopback, one for the session."""
    with running_model_server() as server:
        yield server


@pytest.fixture
def model(model_server: ModelServer) -> Iterator[ModelServer]:
    """The model server with an empty script and no requests recorded."""
    model_server.reset()
    yield model_server
    model_server.reset()


def llm_settings(model: ModelServer, **overrides: Any) -> Settings:
    """Settings for an engine talking to ``model``: short deadlines, a Japanese digest."""
    values: dict[str, Any] = {
        "llm_base_url": model.base_url,
        "llm_api_key": "test-key",
        "llm_model": "test-model",
        "llm_mode": "tools",
        "llm_timeout": 5.0,
        "llm_max_retries": 2,
        "lang": "ja",
        "rate_limit": "100000/minute",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
async def make_engine(model: ModelServer) -> AsyncIterator[Callable[..., LLMEngine]]:
    """Build LLM engines for the model server (settings overridable); closed afterwards."""
    engines: list[LLMEngine] = []

    def make(**overrides: Any) -> LLMEngine:
        engine = build_llm_engine(llm_settings(model, **overrides))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.aclose()
