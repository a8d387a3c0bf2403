"""Settings from the environment, and database URLs given to the asyncio drivers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.db import async_url
from app.settings import Settings


def test_contract_variables_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECDIGEST_FETCH_ALLOW", "127.0.0.1, intranet.corp:8443,10.0.0.0/8")
    monkeypatch.setenv("SECDIGEST_LANG", "en")
    monkeypatch.setenv("SECDIGEST_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("SECDIGEST_AUTO_MIGRATE", "false")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.fetch_allow == ["127.0.0.1", "intranet.corp:8443", "10.0.0.0/8"]
    assert settings.lang == "en"
    assert str(settings.tz) == "Europe/Paris"
    assert settings.auto_migrate is False


def test_defaults_need_no_key_and_no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite:///./var/secdigest.db"
    assert settings.llm_configured is False
    assert settings.lang == "ja"
    assert settings.timezone == "Asia/Tokyo"


def test_openai_api_key_is_the_fallback_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.effective_llm_api_key == "sk-test"
    assert settings.llm_configured is True


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown timezone"):
        Settings(_env_file=None, timezone="Mars/Olympus")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///./var/secdigest.db", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_plain_urls_get_an_asyncio_driver(given: str, driver: str) -> None:
    assert async_url(given).drivername == driver
