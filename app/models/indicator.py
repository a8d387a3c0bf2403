"""Indicators seen in reports, and each occurrence of one in a report entry (a sighting)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Indicator(Base):
    """One normalised value of one type (`domain`, `evil.com`), however often it is seen.

    Written only by the database's triggers on report_items (migration c1sightings01), in
    the transaction that writes the entry. A row is never deleted, even when its last
    sighting goes: a concurrent writer may have just found it (INSERT ... ON CONFLICT DO
    NOTHING) and be about to add its own sighting. An indicator without sightings is
    answered as never seen.
    """

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))  # an IocType value
    # As the IOC engine normalises it, exactly as report_items.iocs stores it.
    value: Mapped[str] = mapped_column(String(2048))


class Sighting(Base):
    """An indicator in one report entry (its `iocs` list): one row per (entry, indicator).

    Kept in step with report_items by the database's triggers, whatever writes the entry
    (curation, placing, an import, a bulk UPDATE, another process); never written by the
    application. `day` is the report's day, copied so that first and last seen and the
    newest-first pages are scans of one index.
    """

    __tablename__ = "sightings"
    __table_args__ = (
        # Equality on the indicator, then in day and entry order: min/max of day and the
        # pages (day desc, entry desc, a backward scan) read this index only.
        Index("ix_sightings_timeline", "indicator_id", "day", "report_item_id"),
    )

    # The entry first in the key: the triggers replace an entry's sightings by its id.
    report_item_id: Mapped[int] = mapped_column(
        ForeignKey("report_items.id", ondelete="CASCADE"), primary_key=True
    )
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
