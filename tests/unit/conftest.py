"""Fixtures of the unit suite: the scripted model server and LLM engines pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from app.services.summarize.llm import LLMEngine, build_llm_engine
from app.settings import Settings
from tests.support.model_server import ModelServer, running_model_server


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
