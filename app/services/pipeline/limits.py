"""Bounded concurrency of the slow work: fetches (in all, and per host) and model calls.

One set per process (the API server, a worker, the CLI): with several workers each keeps
its own bounds, so the configured numbers are per process.

Fetch and model call are bounded separately, and an article's fetch slot is given back
before its model call starts: a feed whose items all live on one site (most feeds) then
runs at the model bound, not at the per-host bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from app.services.summarize.base import SummaryEngine, SummaryInput, SummaryResult


class Limits:
    """Semaphores for fetches and model calls."""

    def __init__(self, *, fetches: int = 8, per_host: int = 2, model_calls: int = 8) -> None:
        self.fetches = fetches
        self.per_host = per_host
        self.model_calls = model_calls
        self._fetches = asyncio.Semaphore(fetches)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._model_calls = asyncio.Semaphore(model_calls)
        # Jobs at once: enough to keep every fetch and model slot busy with work ready
        # behind it, few enough that a pull of 200 items does not start 200 jobs that
        # then queue for the database.
        self.jobs = 2 * max(fetches, model_calls)
        self._jobs = asyncio.Semaphore(self.jobs)

    @asynccontextmanager
    async def fetch(self, url: str) -> AsyncIterator[None]:
        """Hold one of the URL's host slots, then a fetch slot (sites are not hammered).

        The host slot comes first: a fetch waiting for a busy host holds no global slot.
        """
        host = (urlsplit(url).hostname or "").lower()
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        async with per_host, self._fetches:
            yield

    @asynccontextmanager
    async def job(self) -> AsyncIterator[None]:
        """Hold a job slot (the in-process queue starts a task per message at once)."""
        async with self._jobs:
            yield

    @asynccontextmanager
    async def model_call(self) -> AsyncIterator[None]:
        """Hold a model-call slot."""
        async with self._model_calls:
            yield


class BoundedEngine:
    """A summary engine whose calls wait for a model slot of the process's limits.

    The engine is built at its first use: a command that summarizes nothing (a pull of
    unchanged feeds) does not pay for importing and setting up the model client.
    """

    def __init__(self, build: Callable[[], SummaryEngine], limits: Limits, *, name: str) -> None:
        self._build = build
        self._inner: SummaryEngine | None = None
        self._limits = limits
        self.name = name

    @property
    def inner(self) -> SummaryEngine:
        """The engine itself (built now if it was not yet)."""
        if self._inner is None:
            self._inner = self._build()
        return self._inner

    @property
    def built(self) -> SummaryEngine | None:
        """The engine if it has been built (what there is to close)."""
        return self._inner

    @property
    def model(self) -> str | None:
        """The inner engine's model."""
        return self.inner.model

    @property
    def prompt_version(self) -> str | None:
        """The inner engine's prompt version."""
        return self.inner.prompt_version

    async def summarize(self, doc: SummaryInput) -> SummaryResult:
        """Summarize within the model bound."""
        async with self._limits.model_call():
            return await self.inner.summarize(doc)
