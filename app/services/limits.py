"""Bounded concurrency of the slow work: fetches (in all, and per host) and model calls.

One set per process (the API server, a worker, the CLI): with several workers each keeps
its own bounds, so the configured numbers are per process.

Fetch and model call are bounded separately, and an article's fetch slot is given back
before its model call starts: a feed whose items all live on one site (most feeds) then
runs at the model bound, not at the per-host bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
    async def model_call(self) -> AsyncIterator[None]:
        """Hold a model-call slot."""
        async with self._model_calls:
            yield


class BoundedEngine:
    """A summary engine whose calls wait for a model slot of the process's limits."""

    def __init__(self, inner: SummaryEngine, limits: Limits) -> None:
        self.inner = inner
        self._limits = limits
        self.name = inner.name

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
