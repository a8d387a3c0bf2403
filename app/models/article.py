"""Articles, the IOCs found in them, and their summaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.types import JsonType, UtcDateTime, utcnow


class Article(Base):
    """A page (or a submitted text) once fetched and extracted."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The submitted URL in canonical form: the key that makes re-submissions free.
    url: Mapped[str | None] = mapped_column(String(2048), unique=True)
    final_url: Mapped[str | None] = mapped_column(String(2048))
    # What the page's rel=canonical names, in canonical form, only when it is on the page's
    # own site (app/services/dedupe.py): another URL of this article.
    canonical_url: Mapped[str | None] = mapped_column(String(2048), index=True)
    source: Mapped[str] = mapped_column(String(16))  # url | html | text
    title: Mapped[str] = mapped_column(Text)
    # As the page states it (ISO 8601, zone kept when given): metadata, not the report day.
    published: Mapped[str | None] = mapped_column(String(40))
    lang: Mapped[str | None] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The key of a text submitted without a URL (its content hash), as `url` is a page's:
    # unique, so that one text sent many times at once is stored once. NULL for pages and
    # HTML, and for the later copies of a text stored twice before the key existed (the
    # oldest copy holds the key; the others stay as they were, entries included).
    text_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # The distinctive tokens of the text that near-duplicate detection compares
    # (dedupe.story_tokens); computed when the article is first placed in a report.
    story_tokens: Mapped[list[str] | None] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    iocs: Mapped[list[ArticleIoc]] = relationship(
        back_populates="article",
        cascade="all, delete-orphan",
        order_by="ArticleIoc.position",
        lazy="selectin",
    )
    summaries: Mapped[list[Summary]] = relationship(
        back_populates="article",
        cascade="all, delete-orphan",
        order_by="Summary.id",
        lazy="selectin",
    )


class ArticleIoc(Base):
    """One indicator found in an article's text: evidence, never added by a model."""

    __tablename__ = "article_iocs"
    __table_args__ = (UniqueConstraint("article_id", "type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(2048))
    defanged: Mapped[str] = mapped_column(String(2100))
    raw: Mapped[str] = mapped_column(String(2100))
    was_defanged: Mapped[bool] = mapped_column(Boolean, default=False)
    offset: Mapped[int] = mapped_column(Integer)
    flags: Mapped[list[str]] = mapped_column(JsonType, default=list)

    article: Mapped[Article] = relationship(back_populates="iocs")


class Summary(Base):
    """What an engine wrote about an article, in one language."""

    __tablename__ = "summaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    engine: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(200))
    # The language asked for (what re-submissions look up) and the one the text is in:
    # the offline engine cannot translate, so they can differ.
    requested_lang: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    bullets: Mapped[list[str]] = mapped_column(JsonType)
    recommendations: Mapped[list[str]] = mapped_column(JsonType)
    other: Mapped[list[str]] = mapped_column(JsonType)
    model_recommendations: Mapped[list[str]] = mapped_column(JsonType)
    section: Mapped[str] = mapped_column(String(32))
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    degraded_reason: Mapped[str | None] = mapped_column(Text)
    usage: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    cves: Mapped[list[str]] = mapped_column(JsonType, default=list)
    attack_techniques: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # Values the model wrote that the text does not support, dropped, by kind.
    dropped: Mapped[dict[str, int]] = mapped_column(JsonType, default=dict)
    # The cache key of model summaries: the same text, model, language and prompt version
    # is summarized once, whichever URL it came from.
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    prompt_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="summaries")
