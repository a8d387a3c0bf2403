"""API keys: create (shown once), find by presented key, list, revoke. Only hashes are stored.

A key is `sd_<8 hex>_<43 url-safe characters>`: the first 11 characters are a public prefix
that finds the row; the rest is `secrets.token_urlsafe(32)`, 256 random bits. The row keeps
SHA-256 of the whole key. A slow password hash (bcrypt, scrypt, argon2) exists to make
guessing a *low-entropy* secret from a stolen hash expensive; guessing 256 random bits is
out of reach whatever the hash costs, so a fast hash is as safe here, needs no salt (no two
keys share a value, no table can be precomputed for 2**256 inputs), and keeps checking a
key per request at microseconds instead of the ~100 ms of CPU that would let any client
turn requests with bogus keys into a denial of service.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidRequest, NotFound
from app.models.apikey import ApiKey
from app.models.types import utcnow

SCOPES = ("read", "write")
KEY_PATTERN = re.compile(r"sd_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")
PREFIX_LENGTH = len("sd_") + 8
# Names show up in logs and terminals: no spaces, no control characters.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# last_used_at is written at most this often per key: not one write per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)
# Compared against when no row has the prefix, so that a miss costs what a hit costs.
_NO_SUCH_KEY = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: the only moment its clear text exists."""

    key: str
    record: ApiKey


def hash_key(key: str) -> str:
    """SHA-256 of the whole key, hex (what the database keeps)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> tuple[str, str]:
    """A fresh key and its public prefix."""
    prefix = f"sd_{secrets.token_hex(4)}"
    return f"{prefix}_{secrets.token_urlsafe(32)}", prefix


def looks_like_key(presented: str) -> bool:
    """Whether a presented string has the shape of one of our keys (cheap, before any query)."""
    return KEY_PATTERN.fullmatch(presented) is not None


async def create_key(session: AsyncSession, *, name: str, scope: str) -> NewKey:
    """Store a new key's hash under a unique name; the clear key is returned once."""
    if NAME_PATTERN.fullmatch(name) is None:
        raise InvalidRequest(
            "a key name is 1-64 letters, digits, '.', '_', '@' or '-', starting with a "
            "letter or digit"
        )
    if scope not in SCOPES:
        raise InvalidRequest(f"scope must be one of {', '.join(SCOPES)}")
    if await session.scalar(select(exists().where(ApiKey.name == name))):
        raise InvalidRequest(f"a key named {name!r} exists (revoked keys keep their name)")
    for _ in range(5):
        key, prefix = generate_key()
        # 32 bits of prefix: a clash is unlikely, not impossible.
        if not await session.scalar(select(exists().where(ApiKey.prefix == prefix))):
            break
    else:  # pragma: no cover - five clashes in a row of 2**32 values
        raise RuntimeError("could not draw an unused key prefix")
    record = ApiKey(name=name, prefix=prefix, key_hash=hash_key(key), scope=scope)
    session.add(record)
    try:
        await session.flush()
    except IntegrityError as exc:  # another process took the name between check and insert
        raise InvalidRequest(f"a key named {name!r} exists") from exc
    return NewKey(key=key, record=record)


async def find_key(session: AsyncSession, presented: str) -> ApiKey | None:
    """The row whose hash matches the presented key (revoked or not), else None."""
    if not looks_like_key(presented):
        return None
    record = await session.scalar(select(ApiKey).where(ApiKey.prefix == presented[:PREFIX_LENGTH]))
    stored = record.key_hash if record is not None else _NO_SUCH_KEY
    # Constant time over the hashes: how long the comparison takes says nothing about
    # how many leading characters were right.
    matches = hmac.compare_digest(stored, hash_key(presented))
    return record if matches and record is not None else None


async def has_active_key(session: AsyncSession) -> bool:
    """Whether at least one unrevoked key exists (otherwise the API runs in open mode)."""
    return bool(await session.scalar(select(exists().where(ApiKey.revoked_at.is_(None)))))


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    rows = await session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))
    return list(rows)


async def revoke_key(session: AsyncSession, *, name: str) -> ApiKey:
    """Revoke the key of that name (idempotent: a revoked key stays revoked as it was)."""
    record = await session.scalar(select(ApiKey).where(ApiKey.name == name))
    if record is None:
        raise NotFound(f"no key named {name!r}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        await session.flush()
    return record


async def mark_used(session: AsyncSession, key_id: int, now: datetime | None = None) -> None:
    """Record a use, unless one was recorded within LAST_USED_RESOLUTION."""
    now = now or utcnow()
    await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where(
            or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at < now - LAST_USED_RESOLUTION,
            )
        )
        .values(last_used_at=now)
    )


def key_table(keys: list[ApiKey]) -> str:
    """What `secdigest keys list` prints: one aligned row per key, never the key itself."""

    def when(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"

    rows = [("NAME", "SCOPE", "PREFIX", "CREATED", "LAST USED", "REVOKED")]
    rows += [
        (k.name, k.scope, k.prefix, when(k.created_at), when(k.last_used_at), when(k.revoked_at))
        for k in keys
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
