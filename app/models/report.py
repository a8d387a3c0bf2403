"""Daily reports and the items placed in them."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.types import JsonType, UtcDateTime, utcnow


class Report(Base):
    """The digest of one calendar day (in SECDIGEST_TIMEZONE)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Goes up with every change to the report or its items, in the same transaction: the
    # database's triggers do it (migration b1readpath01), so no write path can forget it.
    # Never written by the application.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A new random value with every change (the same triggers): what ETags and the keys of
    # rendered days are made of, since a restored database counts revisions again.
    change_token: Mapped[str | None] = mapped_column(
        String(32), default=lambda: secrets.token_hex(12)
    )

    items: Mapped[list[ReportItem]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        order_by=lambda: (ReportItem.position, ReportItem.id),
        lazy="selectin",
    )


class ReportItem(Base):
    """An entry of a report: a summarized article, or a link with a title.

    The item keeps its own copy of the text so that analysts can edit it (and imported
    reports, which have no article behind them, render the same way).
    """

    __tablename__ = "report_items"
    __table_args__ = (
        UniqueConstraint("report_id", "article_id"),
        Index("ix_report_items_order", "report_id", "section", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    section: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # article | link
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    # The same story from other sites, merged into this item: [{"title", "url"}...]
    # (the item's own url first is not repeated here).
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    summary: Mapped[list[str]] = mapped_column(JsonType, default=list)
    iocs: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    recommendations: Mapped[list[str]] = mapped_column(JsonType, default=list)
    other: Mapped[list[str]] = mapped_column(JsonType, default=list)
    model_recommendations: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # The outside text as the Markdown shows it (escaped, indicators defanged), computed
    # when the item is written (app/services/reports/display.py): a render lays lines out
    # instead of scanning each one again. NULL on rows written before it existed.
    display: Mapped[dict[str, Any] | None] = mapped_column(JsonType, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    report: Mapped[Report] = relationship(back_populates="items")


class ChangeClock(Base):
    """One number that goes up whenever a report, an item or an API key changes.

    Written only by the database's triggers; read by app/clock.py to know, with one tiny
    read per request, that nothing cached from those tables is stale.
    """

    __tablename__ = "change_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)
