"""What search reads: one document per report entry, written by the database's triggers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

# The index over the documents is made per backend by migration c2search00001, like the
# triggers, and is not described here: on SQLite an FTS5 table (and the tables FTS5 keeps
# its index in), on PostgreSQL a GIN trigram index. A comparison of the models with the
# database leaves them out (`include_name`).
SQLITE_FTS_TABLE = "search_fts"
_SQLITE_FTS_SHADOWS = ("data", "idx", "content", "docsize", "config")
POSTGRESQL_TRIGRAM_INDEX = "ix_search_documents_trgm"
SEARCH_INDEX_OBJECTS = frozenset(
    {
        SQLITE_FTS_TABLE,
        *(f"{SQLITE_FTS_TABLE}_{shadow}" for shadow in _SQLITE_FTS_SHADOWS),
        POSTGRESQL_TRIGRAM_INDEX,
    }
)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name`: everything but the per-backend search index."""
    return name not in SEARCH_INDEX_OBJECTS


class SearchDocument(Base):
    """A report entry as search sees it: its filters and its text in three parts.

    The text is lower-cased by the database (lower(): Unicode on PostgreSQL, ASCII on
    SQLite, whose FTS5 index folds the rest): what is matched, never shown.

    Written only by the database's triggers (migration c2search00001) in the transaction
    that changes the entry, its article or its report; never by the application.
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        # Newest first: the order of ties, and of the scan of 2-character searches.
        Index("ix_search_documents_day", "day", "item_id"),
    )

    item_id: Mapped[int] = mapped_column(
        ForeignKey("report_items.id", ondelete="CASCADE"), primary_key=True
    )
    # To find the documents of an article whose text changes (no foreign key: the entry's
    # own one says what happens when the article goes).
    article_id: Mapped[int | None] = mapped_column(Integer, index=True)
    day: Mapped[date] = mapped_column(Date)
    section: Mapped[str] = mapped_column(String(32))
    # The types of the entry's evidence indicators, space-separated and space-framed
    # (' cve ipv4 '), or '': the `type` filter looks for ' cve '.
    ioc_types: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    # Summary lines, recommendations, other notes, the model's recommendations and the
    # indicators' values (refanged), one per line.
    notes: Mapped[str] = mapped_column(Text)
    # The article's text; '' for an entry without an article (imported, or a link).
    body: Mapped[str] = mapped_column(Text)
