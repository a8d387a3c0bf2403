"""Idempotency-Key: the first answer to a POST is kept and replayed for the same key.

The key is claimed in its own committed transaction before the work starts, so that two
concurrent requests with one key cannot both do the work; the answer is stored once the
work is done. Server errors are not kept (the client may retry them), and a claim whose
request died is taken over after `STALE_AFTER`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.models import IdempotencyRecord

STALE_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer to replay."""

    status_code: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is ours: do the work, then `remember` or `forget`."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used with another request."""


@dataclass(frozen=True, slots=True)
class InProgress:
    """The first request with this key is still being answered."""


Decision = StoredAnswer | Claimed | Mismatch | InProgress


def request_hash(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same" for a key: method, path, query and body."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode()):
        digest.update(part + b"\0")
    digest.update(body)
    return digest.hexdigest()


async def _lookup(session: AsyncSession, key: str) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
) -> Decision:
    """Claim the key for this request, or say what to answer instead."""
    try:
        async with session_scope(sessionmaker) as session:
            session.add(
                IdempotencyRecord(key=key, method=method, path=path, request_hash=fingerprint)
            )
        return Claimed()
    except IntegrityError:
        pass
    async with session_scope(sessionmaker) as session:
        record = await _lookup(session, key)
        if record is None:  # removed since (a server error): claim again
            session.add(
                IdempotencyRecord(key=key, method=method, path=path, request_hash=fingerprint)
            )
            return Claimed()
        if record.request_hash != fingerprint:
            return Mismatch()
        if record.status_code is not None:
            return StoredAnswer(
                record.status_code, dict(record.headers or {}), (record.body or "").encode()
            )
        if datetime.now(UTC) - record.created_at > STALE_AFTER:
            # The first request died without an answer: this one takes the key over.
            taken = await session.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.status_code.is_(None),
                    IdempotencyRecord.created_at == record.created_at,
                )
                .values(created_at=datetime.now(UTC))
            )
            if getattr(taken, "rowcount", 0):
                return Claimed()
        return InProgress()


async def remember(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    key: str,
    answer: StoredAnswer,
) -> None:
    """Keep the answer of a claimed key."""
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == key)
            .values(
                status_code=answer.status_code,
                headers=answer.headers,
                body=answer.body.decode("utf-8", errors="replace"),
            )
        )


async def forget(sessionmaker: async_sessionmaker[AsyncSession], *, key: str) -> None:
    """Release a claimed key (the request failed on our side: it may be retried)."""
    async with session_scope(sessionmaker) as session:
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key == key))
