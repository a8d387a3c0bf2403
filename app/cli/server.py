"""`secdigest serve`, `migrate` and `worker`: the long-running processes and their set-up."""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from app.cli._common import migrate_if_asked, run_async, settings, with_state
from app.http.open_mode import serve_host
from app.logs import configure_logging
from app.migrate import head_revision, upgrade
from app.server import ProblemHttpProtocol
from app.worker import run_worker

# On SIGTERM: requests in flight and running jobs get this long to finish.
SHUTDOWN_GRACE_SECONDS = 30


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate (unless SECDIGEST_AUTO_MIGRATE=false) and serve the API."""
    if args.workers < 1:
        sys.stderr.write("secdigest: --workers: at least 1\n")
        return 2
    current = settings()
    configure_logging(current.log_level)
    migrate_if_asked(current)
    # No key, no network: the database decides where the server may listen.
    host = run_async(with_state(current, lambda state: serve_host(state, args.host)))
    if args.workers > 1:
        # The worker processes read their settings from the environment, as this one.
        os.environ["SECDIGEST_WEB_WORKERS"] = str(args.workers)
    uvicorn.run(
        "app.main:serve_app",
        factory=True,
        # uvicorn's own supervisor (no gunicorn: one dependency less, and it restarts a
        # worker that dies and passes SIGTERM on for the graceful stop).
        workers=args.workers,
        host=host,
        port=args.port,
        log_level=current.log_level.lower(),
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
    upgrade(settings().database_url)
    print(f"database at migration {head_revision()}")
    return 0


def cmd_worker(_args: argparse.Namespace) -> int:
    """Run jobs from the Redis queue (SECDIGEST_BROKER_URL) until SIGTERM."""
    current = settings()
    configure_logging(current.log_level)
    migrate_if_asked(current)
    run_async(run_worker(current, grace=SHUTDOWN_GRACE_SECONDS))
    return 0
