"""CVE context: the CISA KEV catalog, FIRST EPSS scores, and how each source was last read.

The two data tables hold one copy of their source, replaced whole in one transaction
(app/services/enrich/update.py): a reader sees the old catalog or the new one, never a mix.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import UtcDateTime

# CVE-YYYY-NNNN... upper case: the sequence is bounded in the readers (20 digits).
CVE_ID_LENGTH = 32


class KevEntry(Base):
    """A CVE of CISA's Known Exploited Vulnerabilities catalog."""

    __tablename__ = "kev_entries"

    cve_id: Mapped[str] = mapped_column(String(CVE_ID_LENGTH), primary_key=True)
    date_added: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    # "Known" or "Unknown" in the catalog; kept as CISA writes it.
    known_ransomware_campaign_use: Mapped[str] = mapped_column(String(32))
    # Optional in our reading (the catalog always has them): for `enrich status` and later use.
    vendor_project: Mapped[str | None] = mapped_column(Text)
    product: Mapped[str | None] = mapped_column(Text)
    vulnerability_name: Mapped[str | None] = mapped_column(Text)


class EpssScore(Base):
    """A CVE's EPSS score of one day (the file's score_date)."""

    __tablename__ = "epss_scores"

    cve_id: Mapped[str] = mapped_column(String(CVE_ID_LENGTH), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    date: Mapped[date] = mapped_column(Date)


class EnrichmentSource(Base):
    """One source (kev, epss): its validators, how the last update went, when it is due.

    Written only by the update; the row appears with the first update or schedule claim.
    """

    __tablename__ = "enrichment_sources"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The URL the stored rows and validators came from: validators of another URL (the
    # setting changed) are not sent, so a 304 never stands for a file we do not hold.
    url: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    # "updated" (rows replaced), "unchanged" (a 304), "failed" (old rows kept).
    status: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    # The data's own date and version: KEV's dateReleased and catalogVersion, EPSS's
    # score_date and model_version.
    data_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the last attempt
    fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # last 200 or 304
    # Set by the schedule's claim: of two processes on one schedule, one finds it due.
    next_update_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
