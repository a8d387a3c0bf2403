"""Idempotency-Key: the first answer to a POST is kept and replayed for the same key.

The key is claimed in its own committed transaction before the work starts, so that two
concurrent requests with one key cannot both do the work; the answer is stored once the
work is done. Server errors are not kept (the client may retry them), and a claim whose
request died is taken over after `STALE_AFTER`.

Keys are scoped per caller (each API key, and the anonymous caller of open mode), as
Stripe scopes them per account: a key is a client's name for its own request, and two
clients may well pick the same one (`run-1`). Unscoped, the second would get the first's
answer, or learn from a 422 that someone used that key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.models import IdempotencyRecord

STALE_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255
# The caller of a request without an API key (app/security.py lets one in only while no
# key exists, from this machine): one caller, as every such request is the same principal.
ANONYMOUS = "anonymous"


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


def _is(caller: str, key: str) -> ColumnElement[bool]:
    return and_(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)


async def _lookup(session: AsyncSession, caller: str, key: str) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord).where(_is(caller, key)).execution_options(populate_existing=True)
    )


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    caller: str,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
) -> Decision:
    """Claim the caller's key for this request, or say what to answer instead."""

    def record() -> IdempotencyRecord:
        return IdempotencyRecord(
            caller=caller, key=key, method=method, path=path, request_hash=fingerprint
        )

    try:
        async with session_scope(sessionmaker) as session:
            session.add(record())
        return Claimed()
    except IntegrityError:
        pass
    async with session_scope(sessionmaker) as session:
        stored = await _lookup(session, caller, key)
        if stored is None:  # removed since (a server error): claim again
            session.add(record())
            return Claimed()
        if stored.request_hash != fingerprint:
            return Mismatch()
        if stored.status_code is not None:
            return StoredAnswer(
                stored.status_code, dict(stored.headers or {}), (stored.body or "").encode()
            )
        if datetime.now(UTC) - stored.created_at > STALE_AFTER:
            # The first request died without an answer: this one takes the key over.
            taken = await session.execute(
                update(IdempotencyRecord)
                .where(
                    _is(caller, key),
                    IdempotencyRecord.status_code.is_(None),
                    IdempotencyRecord.created_at == stored.created_at,
                )
                .values(created_at=datetime.now(UTC))
            )
            if getattr(taken, "rowcount", 0):
                return Claimed()
        return InProgress()


async def remember(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    caller: str,
    key: str,
    answer: StoredAnswer,
) -> None:
    """Keep the answer of a claimed key."""
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(IdempotencyRecord)
            .where(_is(caller, key))
            .values(
                status_code=answer.status_code,
                headers=answer.headers,
                body=answer.body.decode("utf-8", errors="replace"),
            )
        )


async def forget(sessionmaker: async_sessionmaker[AsyncSession], *, caller: str, key: str) -> None:
    """Release a claimed key (the request failed on our side: it may be retried)."""
    async with session_scope(sessionmaker) as session:
        await session.execute(delete(IdempotencyRecord).where(_is(caller, key)))
