"""The deployment files: compose.yaml's services and order, and .env.example's settings."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTING_LINE = re.compile(r"^# SECDIGEST_([A-Z0-9_]+)=(.*)$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def test_compose_runs_postgres_redis_the_migration_the_api_and_two_workers(
    compose: dict[str, Any],
) -> None:
    every = services(compose)
    assert set(every) == {"postgres", "redis", "migrate", "api", "worker"}
    assert every["migrate"]["command"] == ["secdigest", "migrate"]
    assert every["api"]["command"][:2] == ["secdigest", "serve"]
    assert every["api"]["command"][every["api"]["command"].index("--host") + 1] == "0.0.0.0"
    assert every["api"]["ports"] == ["8000:8000"]
    assert every["worker"]["command"] == ["secdigest", "worker"]
    assert every["worker"]["deploy"]["replicas"] == 2


def test_compose_checks_the_health_of_the_api_postgres_and_redis(
    compose: dict[str, Any],
) -> None:
    every = services(compose)
    assert every["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert every["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    api_check = " ".join(every["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in api_check
    # The image's check asks the API's port: the processes without one turn it off.
    assert every["worker"]["healthcheck"] == {"disable": True}
    assert every["migrate"]["healthcheck"] == {"disable": True}


def test_compose_keeps_postgres_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    assert "pgdata" in compose["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in services(compose)["postgres"]["volumes"]


def test_compose_migrates_once_before_the_api_and_the_workers(compose: dict[str, Any]) -> None:
    every = services(compose)
    assert every["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert every["migrate"]["restart"] == "no"
    for name in ("api", "worker"):
        service = every[name]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}
        environment = service["environment"]
        assert environment["SECDIGEST_AUTO_MIGRATE"] == "false"
        assert environment["SECDIGEST_DATABASE_URL"].startswith("postgresql://")
        assert environment["SECDIGEST_DATABASE_URL"].endswith("@postgres:5432/secdigest")
        assert environment["SECDIGEST_BROKER_URL"] == "redis://redis:6379/0"


def test_compose_reads_an_optional_env_file_in_every_secdigest_service(
    compose: dict[str, Any],
) -> None:
    every = services(compose)
    for name in ("migrate", "api", "worker"):
        assert every[name]["env_file"] == [{"path": ".env", "required": False}]
        assert every[name]["image"] == "secdigest:local"


def docker_compose() -> list[str] | None:
    """`docker compose` when the plugin answers here, else None."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    version = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    return [docker, "compose"] if version.returncode == 0 else None


def compose_spec_refusal(document: dict[str, Any]) -> str | None:
    """What the Compose specification's parser (compose_spec) finds wrong, or None.

    YAML merge keys (`<<: *anchor`) are resolved by the YAML reader, as docker compose does.
    """
    try:
        parsed = PyCompose.from_json(json.dumps(document))
        parsed.validate()
    except ValueError as error:
        return str(error)
    return None


def test_the_compose_file_is_accepted_by_docker_compose_or_the_specifications_parser(
    tmp_path: Path, compose: dict[str, Any]
) -> None:
    command = docker_compose()
    if command is None:
        assert compose_spec_refusal(compose) is None
        return
    # Without a .env (a fresh checkout): the env file is optional.
    (tmp_path / "compose.yaml").write_text((ROOT / "compose.yaml").read_text())
    result = subprocess.run(
        [*command, "-f", str(tmp_path / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("mistake", "edit"),
    [
        (
            "a misspelt condition",
            lambda api: api["depends_on"]["postgres"].update(condition="service_heathy"),
        ),
        ("a misspelt key", lambda api: api.update(restrat="no")),
        ("a duration without a unit", lambda api: api["healthcheck"].update(interval="ten")),
        ("a port out of range", lambda api: api.update(ports=["99999:8000"])),
    ],
)
def test_the_specifications_parser_refuses_a_broken_compose_file(
    compose: dict[str, Any], mistake: str, edit: Callable[[dict[str, Any]], None]
) -> None:
    broken = copy.deepcopy(compose)
    edit(broken["services"]["api"])
    assert compose_spec_refusal(broken) is not None, mistake


# ---------------------------------------------------------------------------- .env.example


def env_example() -> dict[str, str]:
    """`# SECDIGEST_NAME=value` lines of .env.example, each under its own comment line."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = SETTING_LINE.match(line)
        if match is None:
            continue
        name = match.group(1).lower()
        assert name not in found, f"SECDIGEST_{name.upper()} is listed twice"
        above = lines[index - 1]
        missing = f"SECDIGEST_{name.upper()} has no comment line above it"
        assert above.startswith("# "), missing
        assert not SETTING_LINE.match(above), missing
        found[name] = match.group(2)
    return found


def as_env(value: object) -> str:
    """A default as .env.example writes it: lists comma-separated, unset as nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def test_env_example_names_exactly_the_settings() -> None:
    listed = set(env_example())
    fields = set(Settings.model_fields)
    assert not fields - listed, f"settings missing from .env.example: {sorted(fields - listed)}"
    assert not listed - fields, f"not settings: {sorted(listed - fields)}"


def test_env_example_gives_each_setting_its_default() -> None:
    defaults = Settings(_env_file=None)
    for name, written in env_example().items():
        assert written == as_env(getattr(defaults, name)), f"SECDIGEST_{name.upper()}"


def test_env_example_values_read_back_as_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # Uncommented as is, every line means what leaving it out means.
    for name in Settings.model_fields:
        monkeypatch.delenv(f"SECDIGEST_{name.upper()}", raising=False)
    defaults = Settings(_env_file=None)
    for name, written in env_example().items():
        if written:
            monkeypatch.setenv(f"SECDIGEST_{name.upper()}", written)
    read = Settings(_env_file=None)
    assert read == defaults
