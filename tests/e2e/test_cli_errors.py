"""Every `secdigest` command, given what users get wrong, answers in one line on stderr.

The commands are read from the parser itself, so a new one is covered as soon as it is
registered: each is run with an unknown option and with no arguments; each of its
arguments in turn gets a bad value (a missing file, a directory, a file that is not
UTF-8, a date that is not one, an id nobody has, a word instead of a number, a choice
not offered); and each runs against a database it cannot open. A usage error exits 2, a
failure 1, and a user never sees a traceback nor a raw log line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.cli.main import build_parser
from app.migrate import upgrade
from tests.support.databases import POSTGRES_ENV
from tests.support.processes import cli_env, free_port, run_cli_many

# Commands that serve until stopped: run only where they fail before serving.
LONG_RUNNING = {"serve", "worker"}
# Commands that never open the database (`doctor` reports it unreachable on stdout).
NO_DATABASE = {"iocs", "extract", "doctor", "bench"}
# Commands that need a setting the test environment lacks (a model): a usage error, 2.
NEEDS_CONFIGURATION = {"bench"}
# Commands whose FILE is bytes (HTML or PDF in any encoding), not UTF-8 text.
BINARY_INPUT = {"extract"}


@dataclass(frozen=True)
class Case:
    """One run: what it shows, the arguments, the stdin, the environment, what to expect."""

    label: str
    args: list[str]
    expect: int | None  # the exit status; None: 0 or 1, whatever the command decides
    env: dict[str, str] | None = None
    stdin: str = ""
    mentions: str | None = None  # a text the one line must contain


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command the parser runs (`feeds pull`...), with its own parser."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield path, parser
        return
    for name, sub in actions[0].choices.items():
        yield from commands(sub, (*path, name))


def arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def required(action: argparse.Action) -> bool:
    if action.option_strings:
        return bool(action.required)
    return action.nargs not in ("?", "*")


@dataclass(frozen=True)
class Files:
    markdown: Path
    missing: Path
    directory: Path
    latin1: Path


def sample(action: argparse.Action, files: Files) -> str:
    """A good value of an argument, by its name: the others are bad one at a time."""
    if action.choices:
        return str(next(iter(action.choices)))
    by_name = {
        "file": str(files.markdown),
        "date": "2024-12-06",
        "first": "2024-12-01",
        "last": "2024-12-31",
        "url": "https://www.example.com/feed/",
        "urls": "https://www.example.com/news/1",
        "id": "1",
        "ids": "1",
        "name": "soar",
        "type": "ipv4",
        "value": "evil[.]com",
        "query": "ivanti",
        "keyword": "ivanti",
        "url_pattern": "/news/*",
        "cursor": "abc",
    }
    if action.type is int or action.type is float:
        return "5"
    assert action.dest in by_name, f"add a good sample value of {action.dest!r} to this test"
    return by_name[action.dest]


def bad_values(command: str, action: argparse.Action, files: Files) -> list[tuple[str, str, int]]:
    """(what, value, exit status) of the mistakes an argument invites."""
    if action.choices:
        return [("not a choice", "no-such-choice", 2)]
    if action.type is int or action.type is float:
        unknown = [("unknown id", "999999", 1)] if action.dest in ("id", "ids") else []
        return [("not a number", "seven", 2), *unknown]
    if action.metavar == "FILE":
        mistakes = [("missing file", str(files.missing), 1), ("directory", str(files.directory), 1)]
        if command not in BINARY_INPUT:
            mistakes.append(("not UTF-8", str(files.latin1), 1))
        return mistakes
    if action.dest in ("date", "first", "last"):
        return [("bad date", "2024-13-45", 1)]
    if action.dest == "name" and not action.option_strings:  # `keys revoke NAME`
        return [("unknown name", "nobody", 1)]
    if action.dest in ("url", "urls") and not action.option_strings:  # not `extract --url`
        return [("not a URL", "ht!tp://", 1)]
    if action.dest in ("type", "cursor"):
        return [("bad value", "no-such-value", 1)]
    return []


def command_line(
    path: tuple[str, ...], parser: argparse.ArgumentParser, files: Files, bad: tuple[str, str]
) -> list[str]:
    """The command with every required argument (good samples), one of them replaced."""
    positional: list[str] = []
    options: list[str] = []
    for action in arguments(parser):
        is_bad = action.dest == bad[0]
        if not required(action) and not is_bad:
            continue
        value = bad[1] if is_bad else sample(action, files)
        if action.option_strings:
            options += [action.option_strings[-1], value]
        else:
            positional.append(value)
    return [*path, *positional, *options]


def cases(broken: dict[str, str], files: Files) -> list[Case]:
    found: list[Case] = []
    for path, parser in commands(build_parser()):
        name = " ".join(path)
        found.append(Case(f"{name}: unknown option", [*path, "--no-such-option"], 2))
        needs = any(required(action) for action in arguments(parser))
        if needs or path[0] in NEEDS_CONFIGURATION:
            found.append(Case(f"{name}: no arguments", list(path), 2))
        elif path[0] not in LONG_RUNNING:
            found.append(Case(f"{name}: no arguments", list(path), None))
        for action in arguments(parser):
            for what, value, status in bad_values(path[0], action, files):
                line = command_line(path, parser, files, (action.dest, value))
                mention = value if what in ("missing file", "directory", "not UTF-8") else None
                found.append(
                    Case(f"{name}: {action.dest}: {what}", line, status, None, "", mention)
                )
        if path[0] not in NO_DATABASE:
            line = command_line(path, parser, files, ("", ""))
            found.append(Case(f"{name}: database", line, 1, broken, "", "database"))
    return found


@pytest.fixture
def files(tmp_path: Path, sample_markdown: str) -> Files:
    markdown = tmp_path / "digest.md"
    markdown.write_text(sample_markdown, encoding="utf-8")
    directory = tmp_path / "a-directory"
    directory.mkdir()
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes("# Daily Security Info\n\ncafé\n".encode("latin-1"))
    return Files(markdown, tmp_path / "no-such-file.md", directory, latin1)


HINT = (
    "ModuleNotFoundError: No module named 'MySQLdb' (SECDIGEST_LOG_LEVEL=DEBUG shows the traceback)"
)


def check(case: Case, result: subprocess.CompletedProcess[str]) -> str | None:
    """What is wrong with a run, or None."""
    lines = result.stderr.splitlines()
    shown = f"{case.label}: exit {result.returncode}, stderr {result.stderr!r}"
    if "Traceback" in result.stderr:
        return f"{shown}: a traceback"
    if any(not line.startswith("secdigest: ") for line in lines):
        return f"{shown}: a line that is not the command's"
    if case.expect is None:
        return None if result.returncode in (0, 1) else shown
    if result.returncode != case.expect:
        return f"{shown}: expected exit {case.expect}"
    if len(lines) != 1:
        return f"{shown}: expected exactly one line"
    if case.mentions is not None and case.mentions not in lines[0]:
        return f"{shown}: the line does not name {case.mentions!r}"
    return None


def unreachable_databases(env: dict[str, str], files: Files) -> list[Case]:
    """A PostgreSQL nobody listens on; one that has no such database (when CI has one)."""
    down = f"postgresql://secdigest@127.0.0.1:{free_port()}/secdigest"
    urls = {"postgresql down": down}
    if server := os.environ.get(POSTGRES_ENV):
        urls["no such database"] = (
            make_url(server).set(database="secdigest_no_such_database").render_as_string(False)
        )
    found: list[Case] = []
    for what, url in urls.items():
        broken = {**env, "SECDIGEST_DATABASE_URL": url}
        found += [
            Case(f"report: {what}", ["report", "latest"], 1, broken, mentions="database"),
            Case(f"migrate: {what}", ["migrate"], 1, broken, mentions="database"),
            Case(
                f"import: {what}",
                ["import", str(files.markdown), "--date", "2024-12-06"],
                1,
                broken,
                mentions="SECDIGEST_DATABASE_URL",
            ),
        ]
    return found


def internal_errors(env: dict[str, str]) -> list[Case]:
    """What no check foresaw (here: a database URL whose driver is not installed)."""
    odd = {**env, "SECDIGEST_DATABASE_URL": "mysql://secdigest@127.0.0.1/secdigest"}
    return [
        Case("internal error", ["report"], 1, odd, mentions=f"internal error: {HINT}"),
        Case("internal error, debug", ["report"], None, {**odd, "SECDIGEST_LOG_LEVEL": "DEBUG"}),
    ]


def test_every_command_fails_in_one_line_without_a_traceback(tmp_path: Path, files: Files) -> None:
    env = cli_env(tmp_path)
    env.pop("SECDIGEST_LOG_LEVEL")  # as a user runs it: no log level asked for
    env["SECDIGEST_KEV_URL"] = env["SECDIGEST_EPSS_URL"] = "http://127.0.0.1:9/closed"
    upgrade(env["SECDIGEST_DATABASE_URL"])  # once: the cases run two at a time
    broken = {**env, "SECDIGEST_DATABASE_URL": f"sqlite:///{files.directory}"}
    runs = [*cases(broken, files), *unreachable_databases(env, files), *internal_errors(env)]
    work = tmp_path / "runs"
    work.mkdir()

    results = run_cli_many(
        [(case.args, case.env or env, case.stdin) for case in runs], work, env, os.cpu_count() or 2
    )

    outcome = dict(zip((case.label for case in runs), results, strict=True))
    assert len(outcome) == len(runs), "two cases share a label"
    debug = outcome.pop("internal error, debug")
    problems = [
        p for case in runs if case.label in outcome if (p := check(case, outcome[case.label]))
    ]
    assert not problems, "\n".join(problems)
    assert {case.args[0] for case in runs} >= {"extract", "import", "iocs", "summarize"}
    # Asked for, the traceback is logged (indented, in the log's format) before the line.
    assert "    Traceback (most recent call last):" in debug.stderr
    assert debug.stderr.splitlines()[-1].startswith("secdigest: internal error: ")
