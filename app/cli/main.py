"""The `secdigest` command: its arguments, and which module runs each command.

Building the parser costs no import beyond argparse; a command's module (`server`,
`articles`, `iocs`, `reports`, `keys`, `feeds`, `exports`, `indicators`, `search`,
`enrich`, `delivery`, `doctor`, `bench`) is imported only when that command runs, so each
may import what it needs at its top, and `secdigest iocs --jsonl` starts fast.
"""

from __future__ import annotations

import sys
from importlib import import_module

# Not imported from typing: `secdigest iocs --jsonl` pays for every import at each start
# (mypy treats any TYPE_CHECKING name as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

EPILOG = """\
examples:
  secdigest serve --port 8000
  secdigest summarize https://www.example.com/news/new-campaign --format md
  echo 'beacon to hxxps://evil[.]com/gate' | secdigest iocs
  secdigest extract page.html
  secdigest report today --format md
  secdigest import digest.md --date 2024-12-06
  secdigest export 2024-12-06 --format misp
  secdigest blocklist url --days 7
  secdigest search '"Connect Secure" Ivanti' --from 2024-01-01
  secdigest seen 'evil[.]com'
  secdigest keys create --name soar --scope write
  secdigest feeds add https://www.example.com/feed/ --section daily_news
  secdigest feeds pull
  secdigest enrich update
  secdigest webhooks add https://hooks.example.org/secdigest --events report.published
  secdigest publish 2024-12-06
  SECDIGEST_BROKER_URL=redis://127.0.0.1:6379/0 secdigest worker
  secdigest doctor
  SECDIGEST_LLM_BASE_URL=http://127.0.0.1:11434/v1 secdigest bench llm --limit 5

configuration: SECDIGEST_* environment variables or a .env file (docs/api.md).
documentation: README.md and docs/ (the API, feeds, IOCs, summaries, workers).
"""


def _command(target: str) -> Callable[[argparse.Namespace], int]:
    """`module:function` of app.cli, imported when the command runs."""

    def run(args: argparse.Namespace) -> int:
        module, _, function = target.partition(":")
        code: int = getattr(import_module(f"app.cli.{module}"), function)(args)
        return code

    return run


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
    add.add_argument(
        "--no-check",
        action="store_true",
        help="subscribe without reading the feed once first (POST /feeds?check=false)",
    )
    listing = actions.add_parser("list", help="subscriptions, last pull, counts, last error")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    remove = actions.add_parser("remove", help="unsubscribe (pulled articles stay)")
    remove.add_argument("id", type=int, metavar="ID")
    pull = actions.add_parser("pull", help="pull due feeds now (or those named), with progress")
    pull.add_argument("ids", nargs="*", type=int, metavar="ID", help="only these feeds")
    pull.add_argument("--force", action="store_true", help="ignore the pull interval")


def _add_enrich_arguments(enrich: argparse.ArgumentParser) -> None:
    actions = enrich.add_subparsers(dest="enrich_command", required=True, metavar="ACTION")
    update = actions.add_parser(
        "update", help="fetch the KEV catalog and EPSS scores (conditional GET), replace them"
    )
    only = update.add_mutually_exclusive_group()
    only.add_argument("--kev-only", action="store_true", help="only CISA's KEV catalog")
    only.add_argument("--epss-only", action="store_true", help="only FIRST's EPSS scores")
    actions.add_parser("status", help="one line per source: rows, date, validators, last error")


def _add_webhook_arguments(hooks: argparse.ArgumentParser) -> None:
    actions = hooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="a receiver of events; prints its secret once")
    add.add_argument("url", metavar="URL", help="https://... (the fetch guard applies)")
    add.add_argument(
        "--events",
        nargs="+",
        default=["report.published"],
        choices=("report.published", "item.added"),
        help="default: report.published",
    )
    add.add_argument("--format", choices=("json", "slack"), default="json")
    actions.add_parser("list", help="every webhook, and why one is disabled")
    remove = actions.add_parser("remove", help="remove a webhook by id")
    remove.add_argument("id", type=int, metavar="ID")
    test = actions.add_parser("test", help="send it a signed webhook.test message now")
    test.add_argument("id", type=int, metavar="ID")


def _add_bench_arguments(bench: argparse.ArgumentParser) -> None:
    actions = bench.add_subparsers(dest="bench_command", required=True, metavar="ACTION")
    llm = actions.add_parser(
        "llm",
        help="the configured model (SECDIGEST_LLM_*) on the summarization sets: ROUGE, "
        "grounding, tokens, latency; Markdown on stdout, JSON under --out",
    )
    llm.add_argument(
        "--shared", default="../shared/bench", metavar="DIR", help="bench data (its summarize/)"
    )
    llm.add_argument("--limit", type=int, metavar="N", help="only the first N articles")
    llm.add_argument(
        "--concurrency", type=int, metavar="N", help="articles at once (SECDIGEST_LLM_CONCURRENCY)"
    )
    llm.add_argument("--lang", choices=("en", "ja"), help="digest language (default en)")
    llm.add_argument("--set", action="append", metavar="NAME", help="only this set (repeatable)")
    llm.add_argument(
        "--out", default="var/bench", metavar="DIR", help="JSON report and cache (var/bench)"
    )
    llm.add_argument(
        "--injection",
        metavar="DIR",
        help="prompt-injection pages and their cases.json (default bench/llm_injection)",
    )
    llm.add_argument("--no-injection", action="store_true", help="skip the prompt-injection pages")


def _add_search_arguments(found: argparse.ArgumentParser) -> None:
    from app.services.reports.sections import Section

    found.add_argument(
        "query", metavar="QUERY", help='words (all must be found); "a phrase" in double quotes'
    )
    found.add_argument("--from", dest="first", metavar="DATE", help="entries of DATE or later")
    found.add_argument("--to", dest="last", metavar="DATE", help="entries of DATE or earlier")
    found.add_argument(
        "--section", choices=[section.value for section in Section], help="one section's entries"
    )
    found.add_argument(
        "--type", dest="ioc_type", metavar="TYPE", help="entries with an indicator of TYPE (cve...)"
    )
    found.add_argument("--limit", type=int, default=20, metavar="N", help="entries (default 20)")
    found.add_argument("--cursor", metavar="C", help="the cursor the previous page printed")
    found.add_argument("--format", choices=("text", "json"), default="text")


def _one_line_parser() -> type[argparse.ArgumentParser]:
    """argparse's parser whose usage errors are one line, as every error of the command
    (`secdigest: feeds remove: argument ID: invalid int value: 'x' (see ...)`), status 2.
    The subcommands' parsers are of the same class."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            command = self.prog.removeprefix("secdigest").strip()
            where = f"{command}: " if command else ""
            self.exit(2, f"secdigest: {where}{message} (see `{self.prog} --help`)\n")

    return Parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every command's help says what it does."""
    import argparse

    parser = _one_line_parser()(
        prog="secdigest",
        description="Security news in, the Daily Security Info digest out.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, target: str, help_: str) -> Any:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.set_defaults(func=_command(target))
        return sub

    serve = add("serve", "server:cmd_serve", "migrate the database and serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes (default 1; rate limits and caches are per process)",
    )

    add("migrate", "server:cmd_migrate", "apply database migrations (a release step)")
    doctor = add("doctor", "doctor:cmd_doctor", "check the database, broker, model, settings")
    doctor.add_argument("--timeout", type=float, default=5.0, help="seconds per check (default 5)")

    from app.services.reports.sections import Section

    summarize = add(
        "summarize", "articles:cmd_summarize", "fetch, summarize and store URLs; print them"
    )
    summarize.add_argument("urls", nargs="+", metavar="URL", help="article URL(s)")
    summarize.add_argument("--format", choices=("json", "md"), default="json")
    summarize.add_argument("--lang", choices=("ja", "en"), help="digest language")
    summarize.add_argument(
        "--section",
        choices=[section.value for section in Section],
        help="report section (default: chosen per article)",
    )
    summarize.add_argument(
        "--date", default="today", metavar="DATE", help="report day, YYYY-MM-DD (default today)"
    )
    summarize.add_argument("--force", action="store_true", help="fetch again even if known")
    summarize.add_argument(
        "--dry-run",
        action="store_true",
        help='fetch and summarize, store nothing (the API\'s "store": false)',
    )

    iocs = add("iocs", "iocs:cmd_iocs", "find IOCs in text (stdin by default)")
    iocs.add_argument("file", nargs="?", metavar="FILE", help="text file, or - for stdin")
    iocs.add_argument("--format", choices=("json", "text"), default="json")
    iocs.add_argument(
        "--jsonl",
        action="store_true",
        help='batch: JSON lines {"id","text"} on stdin, {"id","iocs"} on stdout',
    )

    extract = add(
        "extract",
        "articles:cmd_extract",
        "main text of an HTML page or a PDF as JSON (stdin by default)",
    )
    extract.add_argument("file", nargs="?", metavar="FILE", help="HTML or PDF file, or - for stdin")
    extract.add_argument("--url", help="the page's URL (resolves relative links)")

    report = add("report", "reports:cmd_report", "print a stored daily report")
    report.add_argument("date", nargs="?", default="today", help="YYYY-MM-DD, today or latest")
    report.add_argument("--format", choices=("md", "json"), default="md")
    report.add_argument("--lang", choices=("ja", "en"), help="language of headings and labels")

    imp = add(
        "import", "reports:cmd_import", "store a report written in the digest's Markdown format"
    )
    imp.add_argument("file", metavar="FILE", help="Markdown file, or - for stdin")
    imp.add_argument("--date", required=True, help="the report's day, YYYY-MM-DD or today")

    export = add("export", "exports:cmd_export", "print a stored day as STIX 2.1, MISP or CSV")
    export.add_argument("date", metavar="DATE", help="YYYY-MM-DD, today or latest")
    export.add_argument("--format", required=True, choices=("stix", "misp", "csv"))
    export.add_argument(
        "--include-flagged", action="store_true", help="keep benign, private... indicators"
    )
    export.add_argument("--bom", action="store_true", help="CSV: a UTF-8 BOM first (Excel)")

    blocklist = add(
        "blocklist", "exports:cmd_blocklist", "print a blocklist: one indicator per line"
    )
    blocklist.add_argument(
        "type", metavar="TYPE", help="ipv4, ipv6, domain, url, md5, sha1, sha256 or sha512"
    )
    blocklist.add_argument(
        "--days", type=int, default=30, metavar="N", help="the last N days (default 30)"
    )

    seen = add(
        "seen", "indicators:cmd_seen", "where an indicator was seen in reports, newest first (JSON)"
    )
    seen.add_argument(
        "value", metavar="VALUE", help="in any form: evil[.]com, EVIL.COM, hxxp://..."
    )
    seen.add_argument("--limit", type=int, default=50, metavar="N", help="sightings (default 50)")
    seen.add_argument("--cursor", metavar="C", help="the next_cursor of the previous answer")

    _add_search_arguments(
        add("search", "search:cmd_search", "stored entries whose text has every term, best first")
    )

    keys = add("keys", "keys:cmd_keys", "API keys: create (printed once), list, revoke")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True, help="unique, e.g. the calling system")
    create.add_argument("--scope", required=True, choices=("read", "write"))
    actions.add_parser("list", help="name, scope, prefix, created, last used, revoked")
    actions.add_parser("revoke", help="revoke a key by name").add_argument("name", metavar="NAME")

    _add_feed_arguments(
        add("feeds", "feeds:cmd_feeds", "feed subscriptions: add, list, remove, pull")
    )
    publish = add(
        "publish",
        "delivery:cmd_publish",
        "publish a day: report.published to the webhooks, the e-mail (an unchanged day: no-op)",
    )
    publish.add_argument("date", metavar="DATE", help="YYYY-MM-DD, today or latest")
    _add_webhook_arguments(
        add(
            "webhooks",
            "delivery:cmd_webhooks",
            "webhooks: add (secret printed once), list, remove, test",
        )
    )
    _add_enrich_arguments(
        add("enrich", "enrich:cmd_enrich", "CVE context: update KEV and EPSS data, or its status")
    )
    _add_bench_arguments(
        add("bench", "bench:cmd_bench", "benchmarks to run on your own setup: llm (a model)")
    )
    add(
        "worker",
        "server:cmd_worker",
        "run queued jobs and scheduled pulls (needs SECDIGEST_BROKER_URL)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `secdigest` console script."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    # Whatever a command lets through ends here, in one line on stderr and status 1 (a
    # usage error: status 2, from the parser): here rather than in each command, so that
    # every command, a new one too, is covered. `report_failure` names what the user can
    # act on (a file, a value, the database) and calls anything else an internal error.
    try:
        if arguments == ["iocs", "--jsonl"]:
            from app.cli.iocs import iocs_jsonl

            return iocs_jsonl()  # the batch hot path, without building the parser (~6 ms)
        args = build_parser().parse_args(arguments)
        code: int = args.func(args)
        return code
    except KeyboardInterrupt:
        sys.stderr.write("secdigest: interrupted\n")
        return 130
    except SystemExit as exc:
        if not isinstance(exc.code, str):
            raise  # the parser's own exit (status 2 after its one line, 0 after --help)
        # `raise SystemExit("secdigest worker needs ...")` below us: the same one line.
        sys.stderr.write(f"secdigest: {exc.code.removeprefix('secdigest ')}\n")
        return 1
    except Exception as exc:
        from app.cli._common import report_failure

        return report_failure(exc)


if __name__ == "__main__":
    raise SystemExit(main())
