"""Schema migrations (Alembic) applied from code: `secdigest migrate` and `serve` on start."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("secdigest.migrate")


def _script_location() -> Path:
    package_copy = Path(__file__).parent / "migrations"  # inside a built wheel
    source_tree = Path(__file__).parent.parent / "migrations"  # a checkout / editable install
    return package_copy if package_copy.is_dir() else source_tree


def alembic_config(database_url: str | None = None) -> Config:
    """The Alembic configuration, built in code so that it works from any directory."""
    config = Config()
    config.set_main_option("script_location", str(_script_location()))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; blocking, call it outside a running event loop.

    One line is logged, at INFO: `database at revision X`. (Alembic's own lines, its
    plugins and every revision applied, would come at every start: `configure_logging`
    holds its loggers at WARNING unless DEBUG is asked for.)
    """
    command.upgrade(alembic_config(database_url), revision)
    log.info("database at revision %s", head_revision() if revision == "head" else revision)


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None when it was never migrated)."""

    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_read)
