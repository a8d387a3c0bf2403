"""Feed pull benchmark: 200 items, a model that takes 1 s a call, concurrency 8.

Serves one RSS feed of 200 distinct articles from loopback and an OpenAI-compatible model
server (1 s per call) from loopback, then runs the `secdigest` command as a user would:

1. in-process queue: `secdigest feeds pull` (this process fetches and summarizes);
2. Redis queue: two `secdigest worker` processes (4 model calls each at once: 8 in all)
   and `secdigest feeds pull` waiting for them.

Each run pulls twice: the first pull summarizes every item, the second (`--force`, the
feed answers 304) must cost no model call. The ideal first pull is 200 / 8 x 1 s = 25 s.

    make bench-feeds     # or: .venv/bin/python bench/feeds.py [--items 200] [--no-redis]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.model_server import ModelServer, ok, running_model_server  # noqa: E402
from tests.support.site import Route, SiteServer  # noqa: E402

SECDIGEST = [sys.executable, "-m", "app.cli"]
LINE = re.compile(r"^feeds=\d+ new=(\d+) duplicates=(\d+) .*model_calls=(\d+) seconds=([\d.]+)$")
CONCURRENCY = 8
LATENCY = 1.0


def _words(rng: random.Random, count: int) -> list[str]:
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    return [
        "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        for _ in range(count)
    ]


def article_html(n: int, rng: random.Random, vocabulary: list[str]) -> bytes:
    """A news page with its own words: no two items are near-duplicates of each other."""
    actor, malware = rng.choice(vocabulary).title(), rng.choice(vocabulary).title()
    sentences = [
        f"The {actor} group deployed the {malware} loader against {rng.choice(vocabulary)} "
        f"firms, according to researchers who tracked campaign {n}."
    ]
    for _ in range(8):
        words = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(12, 20)))
        sentences.append(f"{words.capitalize()}.")
    sentences.append(f"The loader called back to 45.{n % 250}.{(n * 7) % 250}.{(n * 13) % 250}.")
    body = "".join(f"<p>{s}</p>" for s in sentences)
    title = f"{actor} deploys {malware} in campaign {n}"
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><article><h1>{title}</h1>{body}</article></body></html>"
    ).encode()


def feed_routes(items: int) -> dict[str, Route]:
    rng = random.Random(6)  # noqa: S311 - the same pages every run, not a secret
    vocabulary = _words(rng, 6000)
    routes = {f"/a/{n}.html": Route(body=article_html(n, rng, vocabulary)) for n in range(items)}
    start = datetime(2026, 11, 25, tzinfo=UTC)
    entries = "".join(
        f"<item><title>Story {n}</title><link>/a/{n}.html</link>"
        f"<pubDate>{format_datetime(start - timedelta(minutes=n))}</pubDate></item>"
        for n in range(items)
    )
    feed = (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Bench feed</title><link>/</link>{entries}</channel></rss>"
    ).encode()
    routes["/feed.rss"] = Route(
        body=feed, content_type="application/rss+xml", headers=(("ETag", '"bench-1"'),)
    )
    return routes


@dataclass
class Pull:
    """One `feeds pull`: what it says, and how long the command took."""

    new: int
    duplicates: int
    model_calls: int  # counted by the model server, not by us
    pull_seconds: float  # the command's own figure (the pull, without process start)
    wall_seconds: float  # the whole command, process start included


def run(args: list[str], env: dict[str, str], *, timeout: float = 600) -> str:
    done = subprocess.run(
        [*SECDIGEST, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"secdigest {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def pull(env: dict[str, str], model: ModelServer, *extra: str) -> Pull:
    calls = model.calls
    started = time.perf_counter()
    out = run(["feeds", "pull", *extra], env)
    wall = time.perf_counter() - started
    match = LINE.match(out.strip().splitlines()[-1])
    assert match, out
    new, duplicates, _, seconds = match.groups()
    return Pull(int(new), int(duplicates), model.calls - calls, float(seconds), wall)


@contextmanager
def workers(env: dict[str, str], count: int) -> Iterator[None]:
    with ExitStack() as stack:
        children = []
        for _ in range(count):
            log = stack.enter_context(tempfile.TemporaryFile())
            children.append(
                subprocess.Popen([*SECDIGEST, "worker"], env=env, cwd=ROOT, stdout=log, stderr=log)
            )
        try:
            yield
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=60)


def scenario(
    name: str, site: str, model: ModelServer, tmp: Path, *, redis: str | None
) -> tuple[str, Pull, Pull]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECDIGEST_")}
    env |= {
        "SECDIGEST_DATABASE_URL": f"sqlite:///{tmp / name / 'secdigest.db'}",
        "SECDIGEST_FETCH_ALLOW": "127.0.0.1",
        "SECDIGEST_LOG_LEVEL": "WARNING",
        "SECDIGEST_LLM_BASE_URL": model.base_url,
        "SECDIGEST_LLM_API_KEY": "bench",
        "SECDIGEST_LLM_MODEL": "bench-model",
        "SECDIGEST_LLM_MODE": "tools",
        "SECDIGEST_LLM_TIMEOUT": "30",
        "SECDIGEST_FEED_SCHEDULE": "false",
        "SECDIGEST_LLM_CONCURRENCY": str(CONCURRENCY),
    }
    run(["migrate"], env)
    run(["feeds", "add", f"{site}/feed.rss"], env)
    if redis is None:
        return name, pull(env, model), pull(env, model, "--force")
    env |= {
        "SECDIGEST_BROKER_URL": redis,
        "SECDIGEST_BROKER_QUEUE": f"secdigest:bench:{uuid.uuid4().hex}",
        # Two workers, half the model slots each: 8 calls at once, as in-process.
        "SECDIGEST_LLM_CONCURRENCY": str(CONCURRENCY // 2),
    }
    with workers(env, 2):
        time.sleep(2)  # let them connect before the clock starts
        return name, pull(env, model), pull(env, model, "--force")


def redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--no-redis", action="store_true", help="only the in-process run")
    args = parser.parse_args()
    ideal = args.items / CONCURRENCY * LATENCY
    rows = []
    with (
        SiteServer(feed_routes(args.items)) as site,
        running_model_server() as model,
        tempfile.TemporaryDirectory() as tmp,
    ):
        model.default = replace(ok(), delay=LATENCY)
        for name in ("in-process", "redis-2-workers"):
            redis = None if name == "in-process" else "redis://127.0.0.1:6379/0"
            if redis and (args.no_redis or not redis_answers()):
                continue
            (Path(tmp) / name).mkdir()
            rows.append(scenario(name, site.base_url, model, Path(tmp), redis=redis))
    print(f"\n{args.items} feed items, model latency {LATENCY:g} s, concurrency {CONCURRENCY}: ")
    print(f"ideal first pull {ideal:.1f} s; target <= {1.3 * ideal:.1f} s, second pull < 2 s\n")
    print(
        "| queue | first pull s (x ideal) | new | model calls | "
        "second pull s | command s | model calls | ok |"
    )
    print("|---|---|---|---|---|---|---|---|")
    failed = False
    for name, first, second in rows:
        good = (
            first.pull_seconds <= 1.3 * ideal
            and first.model_calls == args.items == first.new
            and second.model_calls == 0
            and second.pull_seconds < 2
        )
        failed |= not good
        print(
            f"| {name} | {first.pull_seconds:.1f} ({first.pull_seconds / ideal:.2f}x) | "
            f"{first.new} | {first.model_calls} | {second.pull_seconds:.2f} | "
            f"{second.wall_seconds:.2f} | {second.model_calls} | {'yes' if good else 'NO'} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
