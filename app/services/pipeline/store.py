"""Storing an article: insert, or rewrite the row of the same URL or text, races included.

The article's key is its URL, else the hash of its text (`content_hash`); HTML without a
URL has none. Two submissions of one key at once meet at the unique column: the loser takes
the winner's row (`store_article` says it lost).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Article, ArticleIoc, Summary
from app.services.iocs import Ioc


def content_hash(text: str) -> str:
    """Hash of the extracted text: the same article under two URLs has the same one."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def stored_summary(article: Article, lang: str) -> Summary | None:
    matching = [s for s in article.summaries if s.requested_lang == lang]
    return matching[-1] if matching else None


def ioc_rows(iocs: list[Ioc]) -> list[ArticleIoc]:
    return [
        ArticleIoc(
            position=position,
            type=ioc.type.value,
            value=ioc.value,
            defanged=ioc.defanged,
            raw=ioc.raw,
            was_defanged=ioc.was_defanged,
            offset=ioc.start,
            flags=list(ioc.flags),
        )
        for position, ioc in enumerate(iocs)
    ]


async def store_article(
    session: AsyncSession,
    *,
    url: str | None,
    text_key: str | None,
    keep_same_text: bool,
    fields: dict[str, object],
    iocs: list[Ioc],
) -> tuple[Article, bool]:
    """Insert the article, or update the row of the same key (a forced re-submission);
    with whether another request stored that key meanwhile (a race this one lost).

    The key is the URL, else the text key; HTML without a URL has none. The row is locked
    while it is rewritten (FOR UPDATE on PostgreSQL; SQLite has one writer anyway), so that
    two forced re-submissions of one key do not interleave. With `keep_same_text` a row
    holding the same text is left as it is.
    """
    identity = _identity(url, text_key)
    existing = await locked_article(session, identity) if identity is not None else None
    if existing is not None and keep_same_text and existing.content_hash == fields["content_hash"]:
        return existing, True
    if existing is None:
        article = Article(url=url, iocs=ioc_rows(iocs), summaries=[], **fields)
        try:
            async with session.begin_nested():
                session.add(article)
            return article, False
        except IntegrityError:
            # Another request stored the same URL (or text) meanwhile, from the same page
            # fetched (or text sent) at the same time: that row is the article.
            winner = await locked_article(session, identity) if identity is not None else None
            if winner is None:  # pragma: no cover - the winner was rolled back
                raise
            return winner, True
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.iocs.clear()
    await session.flush()
    existing.iocs.extend(ioc_rows(iocs))
    await session.flush()
    return existing, False


def _identity(url: str | None, text_key: str | None) -> ColumnElement[bool] | None:
    if url is not None:
        return Article.url == url
    if text_key is not None:
        return Article.text_key == text_key
    return None


async def locked_article(session: AsyncSession, identity: ColumnElement[bool]) -> Article | None:
    return await session.scalar(
        select(Article).where(identity).with_for_update().execution_options(populate_existing=True)
    )
