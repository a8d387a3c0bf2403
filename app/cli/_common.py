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
    import threading
    from collections.abc import Awaitable, Callable
    from typing import Any, TextIO, TypeVar

    from app.errors import SecdigestError
    from app.settings import Settings
    from app.state import AppState

    T = TypeVar("T")


class CliError(Exception):
    """A failure the command explains in one line, `secdigest: <message>`, exit status 1."""


def _shown(path: str) -> str:
    # A file name is the user's, whatever it holds: printed so that it stays on one line.
    return path if path.isprintable() else repr(path)


def _file_problem(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or type(exc).__name__).lower()


def read_input(path: str | None) -> str:
    """A file's text, or standard input for None or `-`; CliError when it cannot be read."""
    where = "stdin" if path in (None, "-") else _shown(str(path))
    try:
        if path in (None, "-"):
            return sys.stdin.read()
        with open(str(path), encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise CliError(f"{where}: {_file_problem(exc)}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{where}: not UTF-8 text (byte {exc.start})") from None


def read_bytes(path: str | None) -> bytes:
    """A file's bytes, or standard input's for None or `-`; CliError when it cannot be read."""
    if path in (None, "-"):
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CliError(f"{_shown(path)}: {_file_problem(exc)}") from None


def print_json(value: Any, out: TextIO = sys.stdout) -> None:
    """Indented JSON, non-ASCII kept (Japanese titles stay readable)."""
    out.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(error: SecdigestError, subject: str | None = None) -> None:
    """One line on stderr: `secdigest: [subject: ]slug: detail`."""
    where = f"{subject}: " if subject else ""
    sys.stderr.write(f"secdigest: {where}{error.slug}: {error.detail}\n")


def settings() -> Settings:
    """The process's settings (environment and .env); the command's logging set from them."""
    from app.settings import get_settings

    current = get_settings()
    quiet_logging(current)
    return current


def quiet_logging(current: Settings) -> None:
    """Log events reach stderr only when SECDIGEST_LOG_LEVEL is set (environment or .env).

    A command says what went wrong in its own line (`fail`); the events behind it
    (`fetch.blocked host=...`) are the server's log and would say it again, so by default
    none show. Asked for, they show at that level in the log's format (`serve` and
    `worker` set their logging again: a server logs at SECDIGEST_LOG_LEVEL, INFO unset).
    """
    import threading

    from app.logs import configure_logging

    asked = "log_level" in current.model_fields_set
    configure_logging(current.log_level if asked else "CRITICAL")
    threading.excepthook = _thread_failed


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    """A library's thread that failed, logged (an ERROR event) rather than printed raw:
    aiosqlite's worker, when asyncio.run closed the loop under it after a failed
    connection, raises "Event loop is closed" after the command has said what failed."""
    import logging

    name = args.thread.name if args.thread is not None else "-"
    logging.getLogger("secdigest.cli").error(
        "thread.failed thread=%s error=%s",
        name,
        args.exc_type.__name__,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
        if args.exc_value is not None
        else None,
    )


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


# ------------------------------------------------------------- failures the dispatcher sees

_INTERNAL_HINT = "(SECDIGEST_LOG_LEVEL=DEBUG shows the traceback)"


def _one_line(text: str) -> str:
    # A newline or a control character in a message would start a forged line.
    return "".join(char if char.isprintable() else " " for char in text.strip())


def _raised_in(exc: BaseException, packages: set[str]) -> bool:
    import traceback

    return any(
        str(frame.f_globals.get("__name__", "")).split(".")[0] in packages
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def _database_problem(exc: BaseException) -> str | None:
    """What went wrong with the database, or None when the failure is not about it."""
    sa = sys.modules.get("sqlalchemy.exc")
    alembic = sys.modules.get("alembic.util.exc")
    if alembic is not None and isinstance(exc, alembic.CommandError):
        return f"migrations: {_one_line(str(exc))}"
    if sa is not None and isinstance(exc, sa.ArgumentError | sa.NoSuchModuleError):
        return f"SECDIGEST_DATABASE_URL: {_one_line(str(exc))}"
    if sa is not None and isinstance(exc, sa.DBAPIError):
        if isinstance(exc, sa.IntegrityError | sa.DataError | sa.NotSupportedError):
            return None  # a statement of ours the database refused: a bug
        text = str(exc.orig).strip() or str(exc)
        detail = text.splitlines()[0]
        missing = "no such table" in detail or ("relation" in detail and "does not exist" in detail)
        unreachable = "unable to open" in detail or detail.startswith("database ")
        hint = " (run `secdigest migrate`)" if missing else ""
        hint = " (check SECDIGEST_DATABASE_URL)" if unreachable else hint
        return f"{_one_line(detail)}{hint}"
    if isinstance(exc, OSError) and _raised_in(exc, {"asyncpg", "aiosqlite", "sqlalchemy"}):
        problem = _one_line(exc.strerror or str(exc) or type(exc).__name__)
        return f"unreachable: {problem} (check SECDIGEST_DATABASE_URL)"
    return None


def _settings_problem(exc: BaseException) -> str | None:
    errors = getattr(exc, "errors", None)
    if type(exc).__name__ != "ValidationError" or getattr(exc, "title", "") != "Settings":
        return None
    found = errors() if callable(errors) else []
    if not found:
        return "configuration: invalid"
    first = found[0]
    name = "SECDIGEST_" + "_".join(str(part) for part in first["loc"]).upper()
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"configuration: {name}: {_one_line(str(first['msg']))}{more}"


def explain(exc: BaseException) -> str | None:
    """One line for a failure the user can act on (a file, a value, the database, the
    configuration); None for a bug."""
    if isinstance(exc, CliError):
        return str(exc)
    errors = sys.modules.get("app.errors")
    if errors is not None and isinstance(exc, errors.SecdigestError):
        return f"{exc.slug}: {_one_line(exc.detail)}"
    database = _database_problem(exc)
    if database is not None:
        return f"database: {database}"
    configuration = _settings_problem(exc)
    if configuration is not None:
        return configuration
    if isinstance(exc, UnicodeDecodeError):
        return f"input is not UTF-8 text (byte {exc.start})"
    if isinstance(exc, OSError):
        problem = _file_problem(exc)
        return f"{_shown(str(exc.filename))}: {problem}" if exc.filename else problem
    return None


def _debugging() -> bool:
    try:
        return settings().log_level.upper() == "DEBUG"
    except Exception:  # the settings themselves may be what failed
        return False


def report_failure(exc: BaseException) -> int:
    """What becomes of an exception a command let through: one line on stderr, status 1.

    A user never sees a traceback: a failure they can act on is explained, anything else
    is an internal error, in one line too; SECDIGEST_LOG_LEVEL=DEBUG logs the traceback.
    """
    if isinstance(exc, BrokenPipeError):
        # `secdigest report | head`: the reader is gone, nothing to say (and nothing more
        # may be written: stdout goes to /dev/null for the interpreter's last flush).
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    line = explain(exc)
    if _debugging():
        import logging

        logging.getLogger("secdigest.cli").debug(
            "cli.failed error=%s", type(exc).__name__, exc_info=exc
        )
    if line is None:
        message = _one_line(str(exc))
        line = f"internal error: {type(exc).__name__}: {message} {_INTERNAL_HINT}"
    sys.stderr.write(f"secdigest: {line}\n")
    return 1
