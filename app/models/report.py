"""Daily reports and the items placed in them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    report: Mapped[Report] = relationship(back_populates="items")
