"""API keys: only a SHA-256 of each key is stored, found again by its public prefix."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import UtcDateTime, utcnow


class ApiKey(Base):
    """A key a client sends as `Authorization: Bearer` or `X-API-Key`."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Unique over every row, revoked ones included: `keys revoke NAME` and the logs that
    # name a key stay unambiguous for as long as the row exists.
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # `sd_` and 8 hex digits: public, shown by `keys list`, the lookup handle of the key.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the whole key, hex
    scope: Mapped[str] = mapped_column(String(8))  # read | write
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def active(self) -> bool:
        """Whether the key still opens the API."""
        return self.revoked_at is None
