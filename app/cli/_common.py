"""What every command shares: settings, migrations, the event loop, output and failures.

Light on purpose (json and sys only at the top): `secdigest iocs --jsonl` imports it too.
"""

from __future__ import annotations

import json
import sys

# Not imported from typing: every import is paid at each start of the command (mypy treats
# any TYPE_CHECKING name as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Any, TextIO, TypeVar

    from app.errors import SecdigestError
    from app.settings import Settings
    from app.state import AppState

    T = TypeVar("T")


def read_input(path: str | None) -> str:
    """A file's text, or standard input for None or `-`."""
    if path in (None, "-"):
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def print_json(value: Any, out: TextIO = sys.stdout) -> None:
    """Indented JSON, non-ASCII kept (Japanese titles stay readable)."""
    out.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(error: SecdigestError, subject: str | None = None) -> None:
    """One line on stderr: `secdigest: [subject: ]slug: detail`."""
    where = f"{subject}: " if subject else ""
    sys.stderr.write(f"secdigest: {where}{error.slug}: {error.detail}\n")


def settings() -> Settings:
    """The process's settings (environment and .env)."""
    from app.settings import get_settings

    return get_settings()


def migrate_if_asked(current: Settings) -> None:
    """Apply the migrations unless SECDIGEST_AUTO_MIGRATE=false."""
    if current.auto_migrate:
        from app.migrate import upgrade

        upgrade(current.database_url)


def run_async(work: Awaitable[T]) -> T:
    """Run a coroutine to its end in a new event loop."""
    # asyncio alone costs ~50 ms to import: only the commands that need it pay for it.
    import asyncio

    async def main() -> T:
        return await work

    return asyncio.run(main())


async def with_state(current: Settings, work: Callable[[AppState], Awaitable[T]]) -> T:
    """Open the app's state (database, clients, engine) around `work`, closed afterwards."""
    from app.state import AppState

    state = AppState.open(current)
    try:
        return await work(state)
    finally:
        await state.close()
