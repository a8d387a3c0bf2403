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

from app.services.delivery.events import on_commit
from app.settings import Settings
from app.state import AppState
from app.tasks import (
    accept_jobs,
    broker,
    hand_over,
    maintain_jobs,
    schedule_delivery,
    schedule_enrichment,
    schedule_feeds,
    stop_jobs,
)

log = logging.getLogger("secdigest.worker")


async def run_worker(settings: Settings, *, grace: float = 30.0) -> None:
    """Consume the queue until SIGTERM or SIGINT."""
    if isinstance(broker, InMemoryBroker):
        raise SystemExit("secdigest worker needs SECDIGEST_BROKER_URL (e.g. redis://host:6379/0)")
    state = AppState.open(settings, warm=True)
    broker.state.secdigest = state
    broker.is_worker_process = True
    accept_jobs()
    await broker.startup()
    on_commit(hand_over)  # deliveries this process owes go to the queue at once
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    receiver = asyncio.create_task(run_receiver_task(broker, max_async_tasks=state.limits.jobs))
    background = [asyncio.create_task(maintain_jobs(state))]
    if settings.feed_schedule:
        background.append(asyncio.create_task(schedule_feeds(state)))
    if settings.enrich_schedule:  # the daily KEV/EPSS update, claimed once across workers
        background.append(asyncio.create_task(schedule_enrichment(state)))
    # Deliveries owed (retries, those a crash left) and the scheduled publish, claimed once.
    background.append(asyncio.create_task(schedule_delivery(state)))
    log.info("worker.started queue=%s", settings.broker_url)
    try:
        await stop.wait()
    finally:
        log.info("worker.stopping")
        for task in background:
            task.cancel()
        # Running jobs finish; what the receiver still takes stays pending in the database.
        await stop_jobs(grace)
        receiver.cancel()
        for task in (receiver, *background):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await state.close()
