"""`secdigest worker`: a process that runs the jobs of the Redis queue.

Start as many as needed (they share SECDIGEST_BROKER_URL and the database). Each resumes
work whose worker died (the job's heartbeat stopped), and stops gracefully on SIGTERM:
no new job, the running ones finish (up to the grace period).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from taskiq import InMemoryBroker
from taskiq.api import run_receiver_task

from app.jobs import STALE_AFTER, accept_jobs, broker, resume_unfinished, stop_jobs
from app.settings import Settings
from app.state import AppState

log = logging.getLogger("secdigest.worker")

MAINTENANCE_SECONDS = 15.0


async def _maintenance(state: AppState) -> None:
    """Every few seconds: give abandoned jobs to the queue again."""
    while True:
        try:
            await resume_unfinished(state, stale_after=STALE_AFTER)
        except Exception:  # keep the worker alive through a database hiccup
            log.exception("worker.maintenance_failed")
        await asyncio.sleep(MAINTENANCE_SECONDS)


async def run_worker(settings: Settings, *, grace: float = 30.0) -> None:
    """Consume the queue until SIGTERM or SIGINT."""
    if isinstance(broker, InMemoryBroker):
        raise SystemExit("secdigest worker needs SECDIGEST_BROKER_URL (e.g. redis://host:6379/0)")
    state = AppState.open(settings)
    broker.state.secdigest = state
    broker.is_worker_process = True
    accept_jobs()
    await broker.startup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    receiver = asyncio.create_task(
        run_receiver_task(broker, max_async_tasks=2 * settings.fetch_concurrency)
    )
    maintenance = asyncio.create_task(_maintenance(state))
    log.info("worker.started queue=%s", settings.broker_url)
    try:
        await stop.wait()
    finally:
        log.info("worker.stopping")
        maintenance.cancel()
        # Running jobs finish; what the receiver still takes stays pending in the database.
        await stop_jobs(grace)
        receiver.cancel()
        for task in (receiver, maintenance):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await state.close()
