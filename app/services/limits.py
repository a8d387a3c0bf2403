"""Bounded concurrency of the slow work: fetches (in all, and per host) and model calls.

One set per process (the API server, a worker): with several workers each keeps its own
bounds, so the configured numbers are per process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit


class Limits:
    """Semaphores for fetches and model calls."""

    def __init__(self, *, fetches: int, per_host: int, model_calls: int) -> None:
        self._fetches = asyncio.Semaphore(fetches)
        self._per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._model_calls = asyncio.Semaphore(model_calls)

    @asynccontextmanager
    async def fetch(self, url: str) -> AsyncIterator[None]:
        """Hold a fetch slot, and one of the URL's host (sites are not hammered)."""
        host = (urlsplit(url).hostname or "").lower()
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self._per_host))
        async with self._fetches, per_host:
            yield

    @asynccontextmanager
    async def model_call(self) -> AsyncIterator[None]:
        """Hold a model-call slot."""
        async with self._model_calls:
            yield
