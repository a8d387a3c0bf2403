"""Export benchmark (issue 15): STIX 2.1 objects/s against stix2's own objects; TAXII pages/s.

One run:

1. a fresh database (SQLite; PostgreSQL too when it answers) with 365 days of 30 entries
   (28 articles with 5-23 indicators in three of four, 2 links: bench/read.py's generator,
   the analysts' format), imported by PUT through one `secdigest serve`;
2. in this process, from the stored rows (`app.services.exports.entries`): every day's
   bundle with our builder (dicts + orjson, `stix.day_bundle`), best of --rounds; then the
   same bundles built naively through the stix2 library's objects (stix2.v21 classes,
   patterns with stix2.patterns, `serialize()`: tests/support/stix_reference.py), each
   checked equal to ours object for object. objects/s = objects in the bundles / seconds;
3. per backend, a fresh `secdigest serve` (open mode, one process): the first TAXII page
   (the collection is built from every day), every page of `GET .../objects/` with
   `limit=50` and with `limit=1000` (the server's maximum, and its default) followed by
   `next`, one keep-alive connection (httpx), best of --rounds; then the first page after
   an analyst's edit (one day rebuilt). pages/s = pages / seconds of the whole walk.

    make bench-export                    # the whole run (~3 minutes, half of it stix2's)
    .venv/bin/python bench/export.py --days 30 --naive-days 5 --no-postgres   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.db import create_engine, create_read_sessionmaker  # noqa: E402
from app.services.exports.entries import ExportEntry, entries  # noqa: E402
from app.services.exports.render import ExportOptions  # noqa: E402
from app.services.exports.stix import day_bundle  # noqa: E402
from app.services.exports.taxii import COLLECTION_ID, MAX_PAGE_SIZE  # noqa: E402
from bench.read import (  # noqa: E402
    DEFAULT_POSTGRES,
    HTTP_TIMEOUT,
    SECDIGEST,
    Backend,
    BenchError,
    digest_markdown,
    postgres_answers,
    postgres_database,
    serve_env,
    started,
)
from tests.support.stix_reference import reference_bundle  # noqa: E402

OPTIONS = ExportOptions(producer="secdigest", tlp="clear")
TAXII = {"Accept": "application/taxii+json;version=2.1"}
OBJECTS = f"/taxii2/api/collections/{COLLECTION_ID}/objects/"
LAST_DAY = date(2024, 12, 6)
T = TypeVar("T")


@dataclass
class Walk:
    label: str
    pages: int
    objects: int
    seconds: float


@dataclass
class Result:
    backend: str
    walks: list[Walk] = field(default_factory=list)
    rss_before_mb: float | None = None
    rss_mb: float | None = None
    error: str = ""


def days(count: int) -> list[date]:
    return [LAST_DAY - timedelta(days=n) for n in range(count)]


def seed(backend: Backend, tmp: Path, options: argparse.Namespace) -> float:
    """The days in a fresh database, through one server (one PUT per day)."""
    began = time.perf_counter()
    env = serve_env(backend.url, [])
    links = 2
    with (
        started(f"{backend.name} seeding", [*SECDIGEST, "serve"], env, tmp) as server,
        httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as client,
    ):
        for number, day in enumerate(days(options.days)):
            markdown = digest_markdown(
                seed=2000 + number, articles=options.entries - links, links=links
            )
            answer = client.put(
                f"/reports/{day}",
                content=markdown.encode(),
                headers={"Content-Type": "text/markdown"},
            )
            if answer.status_code != 200:
                raise BenchError(f"PUT /reports/{day}: {answer.status_code} {answer.text[:300]}")
    return time.perf_counter() - began


async def read_days(database_url: str) -> dict[date, list[ExportEntry]]:
    engine = create_engine(database_url)
    try:
        async with create_read_sessionmaker(engine)() as session:
            found = await entries(session)
    finally:
        await engine.dispose()
    by_day: dict[date, list[ExportEntry]] = defaultdict(list)
    for entry in found:
        by_day[entry.day].append(entry)
    return dict(by_day)


def timed(build: Callable[[], T], rounds: int) -> tuple[float, T]:
    """The best time of `rounds` builds, and what the last one made."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        made = build()
        best = min(best, time.perf_counter() - began)
    return best, made


def stix_rows(by_day: dict[date, list[ExportEntry]], options: argparse.Namespace) -> list[str]:
    ordered = sorted(by_day.items())
    naive_days = ordered[-options.naive_days :] if options.naive_days else ordered

    def ours(selected: list[tuple[date, list[ExportEntry]]]) -> list[bytes]:
        return [day_bundle(found, day=day, options=OPTIONS) for day, found in selected]

    def naive() -> list[str]:
        return [
            reference_bundle(found, day=day, options=OPTIONS).serialize()
            for day, found in naive_days
        ]

    print("STIX: our builder", file=sys.stderr)
    ours_all, built = timed(lambda: ours(ordered), options.rounds)
    everything = len(naive_days) == len(ordered)
    ours_same = ours_all if everything else timed(lambda: ours(naive_days), options.rounds)[0]
    print(f"STIX: stix2 objects, {len(naive_days)} days (slow)", file=sys.stderr)
    naive_seconds, theirs = timed(naive, 1)
    print("STIX: checking both builds agree", file=sys.stderr)
    objects = sum(len(json.loads(bundle)["objects"]) for bundle in built)
    naive_objects = 0
    for (day, _found), mine, their in zip(naive_days, ours(naive_days), theirs, strict=True):
        if json.loads(mine) != json.loads(their):
            raise BenchError(f"the bundles of {day} differ from stix2's")
        naive_objects += len(json.loads(mine)["objects"])
    scope = f"{len(naive_days)} days, {naive_objects:,} objects"
    rows = (
        []
        if everything
        else [
            f"| secdigest builder (dicts + orjson), {len(ordered)} days, {objects:,} objects | "
            f"{ours_all:.2f} | {objects / ours_all:,.0f} | |"
        ]
    )
    return [
        *rows,
        f"| secdigest builder (dicts + orjson), {scope} | {ours_same:.2f} | "
        f"{naive_objects / ours_same:,.0f} | {naive_seconds / ours_same:.0f}x |",
        f"| stix2 objects (naive), {scope} | {naive_seconds:.2f} | "
        f"{naive_objects / naive_seconds:,.0f} | 1x |",
    ]


def walk(client: httpx.Client, limit: int, label: str) -> Walk:
    """Every page of the collection's objects, following `next`."""
    pages = objects = 0
    params: dict[str, str] = {"limit": str(limit)}
    began = time.perf_counter()
    while True:
        answer = client.get(OBJECTS, params=params, headers=TAXII)
        if answer.status_code != 200:
            raise BenchError(f"{label}: {answer.status_code} {answer.text[:300]}")
        envelope = answer.json()
        pages += 1
        objects += len(envelope.get("objects", ()))
        if not envelope.get("more"):
            return Walk(label, pages, objects, time.perf_counter() - began)
        params = {"limit": str(limit), "next": envelope["next"]}


def rss_mb(pid: int) -> float | None:
    """A process's resident memory (Linux), in MB."""
    with suppress(OSError, StopIteration):
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) / 1024
    return None


def first_page(client: httpx.Client, label: str) -> Walk:
    began = time.perf_counter()
    answer = client.get(OBJECTS, params={"limit": "50"}, headers=TAXII)
    seconds = time.perf_counter() - began
    if answer.status_code != 200:
        raise BenchError(f"{label}: {answer.status_code} {answer.text[:300]}")
    return Walk(label, 1, len(answer.json().get("objects", ())), seconds)


def taxii(backend: Backend, tmp: Path, options: argparse.Namespace) -> Result:
    result = Result(backend.name)
    env = serve_env(backend.url, [])
    try:
        with (
            started(f"{backend.name} TAXII", [*SECDIGEST, "serve"], env, tmp) as server,
            httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as client,
        ):
            result.rss_before_mb = rss_mb(server.process.pid)
            result.walks.append(first_page(client, "first page after start (collection built)"))
            for limit in (50, MAX_PAGE_SIZE):
                label = f"every page, limit={limit}" + (
                    " (the server's maximum and default)" if limit == MAX_PAGE_SIZE else ""
                )
                runs = [walk(client, limit, label) for _ in range(options.rounds)]
                result.walks.append(min(runs, key=lambda run: run.seconds))
            result.rss_mb = rss_mb(server.process.pid)
            day = days(options.days)[options.days // 2]
            report = client.get(f"/reports/{day}").json()
            item = next(i for s in report["sections"] for i in s["items"] if i["iocs"])
            client.patch(f"/reports/{day}/items/{item['id']}", json={"title": "Edited"})
            result.walks.append(first_page(client, "first page after an edit (one day rebuilt)"))
    except (BenchError, httpx.HTTPError, StopIteration) as exc:
        result.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return result


def machine_lines(options: argparse.Namespace, backends: list[Backend]) -> None:
    cpu = "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    ).stdout.strip()
    packages = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("secdigest", "stix2", "stix2-patterns", "orjson", "fastapi", "uvicorn")
    )
    print(f"machine: {nproc.strip()} CPUs (nproc), {cpu}, {platform.platform()}")
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    ).stdout.splitlines()
    dirty = f" with {len(changed)} modified files" if changed else ""
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; git {commit}{dirty}")
    print(f"command: make bench-export ({' '.join(['bench/export.py', *sys.argv[1:]])})")
    print(
        f"versions: Python {platform.python_version()}, {packages}"
        + "".join(f", {b.version}" for b in backends if b.name == "PostgreSQL")
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--entries", type=int, default=30, help="entries per day")
    parser.add_argument(
        "--naive-days", type=int, default=0, help="days built through stix2 (default: all)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="best of N (stix2: one round)")
    parser.add_argument("--postgres", metavar="URL", help=f"default {DEFAULT_POSTGRES}")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    return parser.parse_args()


def main() -> int:
    options = parse_args()
    backends: list[Backend] = []
    results: list[Result] = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="secdigest-bench-")))
        backends.append(Backend("SQLite", f"sqlite:///{tmp / 'bench.db'}", "SQLite"))
        admin = options.postgres or DEFAULT_POSTGRES
        if not options.no_postgres and (options.postgres or postgres_answers(admin)):
            backends.append(stack.enter_context(postgres_database(admin)))
        for backend in backends:
            print(f"{backend.name}: seeding {options.days} days", file=sys.stderr)
            print(f"{backend.name}: seeded in {seed(backend, tmp, options):.0f} s", file=sys.stderr)
        stix = stix_rows(asyncio.run(read_days(backends[0].url)), options)
        for backend in backends:
            print(f"{backend.name}: TAXII", file=sys.stderr)
            results.append(taxii(backend, tmp, options))
    print("\n## Exports: STIX 2.1 bundles and TAXII 2.1 pages\n")
    machine_lines(options, backends)
    print(
        f"data: {options.days} days x {options.entries} entries "
        f"({options.entries - 2} articles, 2 links; bench/read.py's generator)\n"
    )
    print("| STIX bundles of the days, in this process | seconds | objects/s | speed-up |")
    print("|---|---|---|---|")
    print("\n".join(stix))
    good = True
    for result in results:
        print(
            f"\n| TAXII 2.1, {result.backend}, one keep-alive connection (httpx, gzip) | pages "
            "| objects | seconds | pages/s | objects/s |"
        )
        print("|---|---|---|---|---|---|")
        for run in result.walks:
            rates = (
                f"{run.pages / run.seconds:,.0f} | {run.objects / run.seconds:,.0f}"
                if run.pages > 1
                else "- | -"  # one request: its time is the figure
            )
            print(
                f"| {run.label} | {run.pages:,} | {run.objects:,} | {run.seconds:.3f} | {rates} |"
            )
        if result.rss_mb is not None and result.rss_before_mb is not None:
            print(
                f"\nserver memory (RSS): {result.rss_before_mb:.0f} MB before the first TAXII "
                f"request, {result.rss_mb:.0f} MB with the collection built"
            )
        if result.error:
            print(f"\nFAILED: {result.error}")
            good = False
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
