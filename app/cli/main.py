"""The `secdigest` command. Imports are lazy: `secdigest iocs --jsonl` must start fast."""

from __future__ import annotations

import json
import sys

# Not imported from typing: `secdigest iocs --jsonl` pays for every import at each start
# (mypy treats any TYPE_CHECKING name as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable, Sequence
    from typing import Any, TextIO, TypeVar

    from app.errors import SecdigestError
    from app.settings import Settings
    from app.state import AppState

    T = TypeVar("T")

EPILOG = """\
examples:
  secdigest serve --port 8000
  secdigest summarize https://www.example.com/news/new-campaign --format md
  echo 'beacon to hxxps://evil[.]com/gate' | secdigest iocs
  secdigest extract page.html
  secdigest report today --format md
  secdigest import digest.md --date 2024-12-06
  secdigest keys create --name soar --scope write
  secdigest feeds add https://www.example.com/feed/ --section daily_news
  secdigest feeds pull
  SECDIGEST_BROKER_URL=redis://127.0.0.1:6379/0 secdigest worker

configuration: SECDIGEST_* environment variables or a .env file (see README).
"""


def _read_input(path: str | None) -> str:
    if path in (None, "-"):
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _print_json(value: Any, out: TextIO = sys.stdout) -> None:
    out.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def _fail(error: SecdigestError, subject: str | None = None) -> None:
    where = f"{subject}: " if subject else ""
    sys.stderr.write(f"secdigest: {where}{error.slug}: {error.detail}\n")


def _settings() -> Settings:
    from app.settings import get_settings

    return get_settings()


def _migrate_if_asked(settings: Settings) -> None:
    if settings.auto_migrate:
        from app.migrate import upgrade

        upgrade(settings.database_url)


def _run_async(work: Awaitable[T]) -> T:
    # asyncio alone costs ~50 ms to import: only the commands that need it pay for it.
    import asyncio

    async def main() -> T:
        return await work

    return asyncio.run(main())


async def _with_state(settings: Settings, work: Callable[[AppState], Awaitable[T]]) -> T:
    from app.state import AppState

    state = AppState.open(settings)
    try:
        return await work(state)
    finally:
        await state.close()


# ---------------------------------------------------------------------------- commands


SHUTDOWN_GRACE_SECONDS = 30


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate (unless SECDIGEST_AUTO_MIGRATE=false) and serve the API."""
    import uvicorn

    from app.http.open_mode import serve_host
    from app.logs import configure_logging
    from app.server import ProblemHttpProtocol

    settings = _settings()
    configure_logging(settings.log_level)
    _migrate_if_asked(settings)
    # No key, no network: the database decides where the server may listen.
    host = _run_async(_with_state(settings, lambda state: serve_host(state, args.host)))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=args.port,
        log_level=settings.log_level.lower(),
        # Our middleware writes one line per request, with its request id.
        access_log=False,
        proxy_headers=False,
        # No `server: uvicorn` on every answer, and its own 400s in problem+json.
        server_header=False,
        http=ProblemHttpProtocol,
        # On SIGTERM: stop accepting, let requests in flight finish (up to this), then stop;
        # the lifespan then waits for running jobs.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        log_config=None,
    )
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Apply the database migrations."""
    from app.migrate import head_revision, upgrade

    settings = _settings()
    upgrade(settings.database_url)
    print(f"database at migration {head_revision()}")
    return 0


def cmd_summarize(args: argparse.Namespace) -> int:
    """The whole pipeline for each URL, without a server."""
    from app.db import session_scope
    from app.errors import SecdigestError
    from app.schemas.summarize import article_read
    from app.services.markdown import labels_for, render_item
    from app.services.pipeline import Placement, summarize_url
    from app.services.reports import item_to_document, today

    settings = _settings()
    _migrate_if_asked(settings)
    lang = args.lang or settings.lang

    async def work(state: AppState) -> int:
        placement = Placement(day=today(settings.tz), lang=lang)
        outputs: list[Any] = []
        failures = 0
        for url in args.urls:
            try:
                async with session_scope(state.sessionmaker) as session:
                    result = await summarize_url(
                        session,
                        state.tools,
                        url=url,
                        placement=placement,
                        force=args.force,
                    )
            except SecdigestError as exc:
                _fail(exc, url)
                failures += 1
                continue
            if args.format == "md":
                labels = labels_for(lang, settings.model_recommendations_label)
                outputs.append(render_item(item_to_document(result.item, full=True), labels))
            else:
                outputs.append(article_read(result).model_dump(mode="json"))
        if args.format == "md":
            sys.stdout.write("\n".join(outputs))
        elif outputs:
            _print_json(outputs[0] if len(args.urls) == 1 else outputs)
        return 1 if failures else 0

    return _run_async(_with_state(settings, work))


def cmd_iocs(args: argparse.Namespace) -> int:
    """Indicators in text (stdin by default), or a JSON-lines batch."""
    if args.jsonl:
        return iocs_jsonl()
    from app.services.iocs import find_iocs

    found = find_iocs(_read_input(args.file))
    if args.format == "text":
        for ioc in found:
            print(f"{ioc.type.value}\t{ioc.value}")
    else:
        _print_json(
            [{"type": i.type.value, "value": i.value, "defanged": i.defanged} for i in found]
        )
    return 0


def iocs_jsonl() -> int:
    """JSON lines {"id","text"} on stdin to JSON lines {"id","iocs"} on stdout."""
    # The batch path imports only the scanner: its start-up is part of its cost.
    from app.services.iocs._scan import ioc_values

    # Written by hand around json's own string encoder: the same JSON as json.dumps of
    # {"id", "iocs": [{"type", "value"}]}, at a third of the cost for thousands of values.
    quote = json.encoder.encode_basestring
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        record = json.loads(line)
        iocs = ",".join(
            f'{{"type":"{kind}","value":{quote(value)}}}'
            for kind, value in ioc_values(record["text"])
        )
        out.write(f'{{"id":{json.dumps(record.get("id"))},"iocs":[{iocs}]}}\n')
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    """Main text and metadata of an HTML page (stdin by default)."""
    from dataclasses import asdict

    from app.services.extract import extract_article
    from app.services.extract.pdf import extract_pdf, looks_like_pdf

    if args.file in (None, "-"):
        html = sys.stdin.buffer.read()
    else:
        with open(args.file, "rb") as handle:
            html = handle.read()
    article = (
        extract_pdf(html, args.url) if looks_like_pdf(html) else extract_article(html, args.url)
    )
    _print_json(asdict(article))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Print a stored daily report."""
    from app.db import session_scope
    from app.errors import SecdigestError
    from app.schemas.reports import report_read
    from app.services import reports
    from app.services.markdown import labels_for, render_report

    settings = _settings()
    _migrate_if_asked(settings)
    lang = args.lang or settings.lang
    labels = labels_for(lang, settings.model_recommendations_label)

    async def work(state: AppState) -> int:
        try:
            async with session_scope(state.sessionmaker) as session:
                day = await reports.resolve_day(session, args.date, settings.tz)
                digest = await reports.load_document(session, day)
        except SecdigestError as exc:
            _fail(exc)
            return 1
        if args.format == "json":
            _print_json(report_read(digest, labels, lang).model_dump(mode="json"))
        else:
            sys.stdout.write(render_report(digest, labels))
        return 0

    return _run_async(_with_state(settings, work))


def cmd_import(args: argparse.Namespace) -> int:
    """Store a report written in the digest's Markdown format."""
    from app.db import session_scope
    from app.errors import InvalidRequest, SecdigestError
    from app.services import reports
    from app.services.markdown import parse_report

    settings = _settings()
    _migrate_if_asked(settings)

    async def work(state: AppState) -> int:
        try:
            day = reports.parse_day(args.date, settings.tz)
            if day is None:
                raise InvalidRequest("import into a named day, not 'latest'")
            digest = parse_report(_read_input(args.file), day=day)
            async with session_scope(state.sessionmaker) as session:
                await reports.import_document(session, day, digest)
        except SecdigestError as exc:
            _fail(exc, args.file)
            return 1
        print(f"imported {len(digest.items)} items into the report of {day.isoformat()}")
        return 0

    return _run_async(_with_state(settings, work))


def cmd_keys(args: argparse.Namespace) -> int:
    """API keys: create (the key is printed once, its hash stored), list, revoke."""
    from app.db import session_scope
    from app.errors import SecdigestError
    from app.services import apikeys

    settings = _settings()
    _migrate_if_asked(settings)

    async def work(state: AppState) -> tuple[str, str]:
        # Returned from inside the unit of work: the commit happens before anything prints.
        async with session_scope(state.sessionmaker) as session:
            if args.keys_command == "create":
                new = await apikeys.create_key(session, name=args.name, scope=args.scope)
                # The key alone on stdout: `KEY=$(secdigest keys create ...)` captures it.
                return new.key, (
                    f"created key {args.name!r} ({args.scope}, prefix {new.record.prefix}): "
                    "store it now, it is not shown again\n"
                )
            if args.keys_command == "revoke":
                key = await apikeys.revoke_key(session, name=args.name)
                return f"revoked key {key.name!r} ({key.prefix})", ""
            return apikeys.key_table(await apikeys.list_keys(session)), ""

    try:
        out, note = _run_async(_with_state(settings, work))
    except SecdigestError as exc:
        _fail(exc)
        return 1
    print(out)
    sys.stderr.write(note)
    return 0


def cmd_worker(_args: argparse.Namespace) -> int:
    """Run jobs from the Redis queue (SECDIGEST_BROKER_URL) until SIGTERM."""
    from app.logs import configure_logging
    from app.worker import run_worker

    settings = _settings()
    configure_logging(settings.log_level)
    _migrate_if_asked(settings)
    _run_async(run_worker(settings, grace=SHUTDOWN_GRACE_SECONDS))
    return 0


def cmd_feeds(args: argparse.Namespace) -> int:
    """Feed subscriptions: add, list, remove, pull (with a progress bar)."""
    from app.cli import feeds as cli_feeds

    settings = _settings()
    _migrate_if_asked(settings)
    return _run_async(cli_feeds.run(settings, args))


# ---------------------------------------------------------------------------- parser


def _add_feed_arguments(feeds: argparse.ArgumentParser) -> None:
    from app.services.reports.sections import Section

    actions = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="subscribe to an RSS or Atom feed")
    add.add_argument("url", metavar="URL")
    add.add_argument(
        "--section",
        choices=[section.value for section in Section],
        help="report section of its items (default: chosen per article)",
    )
    add.add_argument(
        "--keyword", action="append", metavar="K", help="keep items whose title/summary has K"
    )
    add.add_argument(
        "--url-pattern",
        action="append",
        metavar="P",
        help="keep items whose URL matches the glob P (/path/* or https://host/*)",
    )
    add.add_argument("--interval", type=int, metavar="SECONDS", help="seconds between pulls")
    listing = actions.add_parser("list", help="subscriptions, last pull, counts, last error")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    remove = actions.add_parser("remove", help="unsubscribe (pulled articles stay)")
    remove.add_argument("id", type=int, metavar="ID")
    pull = actions.add_parser("pull", help="pull due feeds now (or those named), with progress")
    pull.add_argument("ids", nargs="*", type=int, metavar="ID", help="only these feeds")
    pull.add_argument("--force", action="store_true", help="ignore the pull interval")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every command's help says what it does."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="secdigest",
        description="Security news in, the Daily Security Info digest out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> Any:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.set_defaults(func=func)
        return sub

    serve = add("serve", cmd_serve, "migrate the database and serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")

    add("migrate", cmd_migrate, "apply database migrations (a release step)")

    summarize = add("summarize", cmd_summarize, "fetch, summarize and store URLs; print them")
    summarize.add_argument("urls", nargs="+", metavar="URL", help="article URL(s)")
    summarize.add_argument("--format", choices=("json", "md"), default="json")
    summarize.add_argument("--lang", choices=("ja", "en"), help="digest language")
    summarize.add_argument("--force", action="store_true", help="fetch again even if known")

    iocs = add("iocs", cmd_iocs, "find IOCs in text (stdin by default)")
    iocs.add_argument("file", nargs="?", metavar="FILE", help="text file, or - for stdin")
    iocs.add_argument("--format", choices=("json", "text"), default="json")
    iocs.add_argument(
        "--jsonl",
        action="store_true",
        help='batch: JSON lines {"id","text"} on stdin, {"id","iocs"} on stdout',
    )

    extract = add(
        "extract", cmd_extract, "main text of an HTML page or a PDF as JSON (stdin by default)"
    )
    extract.add_argument("file", nargs="?", metavar="FILE", help="HTML or PDF file, or - for stdin")
    extract.add_argument("--url", help="the page's URL (resolves relative links)")

    report = add("report", cmd_report, "print a stored daily report")
    report.add_argument("date", nargs="?", default="today", help="YYYY-MM-DD, today or latest")
    report.add_argument("--format", choices=("md", "json"), default="md")
    report.add_argument("--lang", choices=("ja", "en"), help="language of headings and labels")

    imp = add("import", cmd_import, "store a report written in the digest's Markdown format")
    imp.add_argument("file", metavar="FILE", help="Markdown file, or - for stdin")
    imp.add_argument("--date", required=True, help="the report's day, YYYY-MM-DD or today")

    keys = add("keys", cmd_keys, "API keys: create (printed once), list, revoke")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True, help="unique, e.g. the calling system")
    create.add_argument("--scope", required=True, choices=("read", "write"))
    actions.add_parser("list", help="name, scope, prefix, created, last used, revoked")
    actions.add_parser("revoke", help="revoke a key by name").add_argument("name", metavar="NAME")

    _add_feed_arguments(add("feeds", cmd_feeds, "feed subscriptions: add, list, remove, pull"))
    add("worker", cmd_worker, "run queued jobs and scheduled pulls (needs SECDIGEST_BROKER_URL)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `secdigest` console script."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments == ["iocs", "--jsonl"]:
        return iocs_jsonl()  # the batch hot path, without building the parser (~6 ms)
    args = build_parser().parse_args(arguments)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
