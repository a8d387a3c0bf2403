"""Rendered bytes by key: in this process (an LRU bounded by bytes), and in Redis if shared.

Keys name one state of one representation (a day's change token, its format, language and
labels, the release): an entry is never stale, only unused, so nothing is ever invalidated
here; freshness is the caller's business (app/clock.py, the day's change token). Redis is
an optimisation: when it errs, the cache answers as if empty.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("secdigest.cache")

REDIS_PREFIX = "secdigest:render:"
# Entries outlive any change of the day they render (keys are never reused), so an expiry
# only returns memory: a day read once a week is rendered again.
REDIS_TTL_SECONDS = 7 * 24 * 3600


class RenderCache:
    """Bytes by key, most recently used kept within `max_bytes` in process."""

    def __init__(self, *, max_bytes: int, redis_url: str | None = None) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._redis: Redis | None = Redis.from_url(redis_url) if redis_url else None

    @property
    def shared(self) -> bool:
        """Whether entries are shared with the other processes (Redis)."""
        return self._redis is not None

    async def get(self, key: str) -> bytes | None:
        """The bytes stored under `key`, from this process or from Redis."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        if self._redis is None:
            return None
        try:
            shared = await self._redis.get(REDIS_PREFIX + key)
        except (RedisError, OSError) as exc:
            log.warning("cache.redis_failed op=get error=%s", type(exc).__name__)
            return None
        if not isinstance(shared, bytes):  # None: not there (the client never decodes)
            return None
        self._keep(key, shared)
        return shared

    async def put(self, key: str, value: bytes) -> None:
        """Store `value` here and, when shared, in Redis."""
        self._keep(key, value)
        if self._redis is None:
            return
        try:
            await self._redis.set(REDIS_PREFIX + key, value, ex=REDIS_TTL_SECONDS)
        except (RedisError, OSError) as exc:
            log.warning("cache.redis_failed op=put error=%s", type(exc).__name__)

    def _keep(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return  # larger than the whole cache: it would only push everything out
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._size -= len(previous)
        self._entries[key] = value
        self._size += len(value)
        while self._size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted)

    async def close(self) -> None:
        """Close the connection to Redis."""
        if self._redis is not None:
            await self._redis.aclose()
