"""A submission with `store: false`: read, find the IOCs, summarize, and write nothing.

The answer is the entry a stored submission would give, built from new rows that are never
added to a session: no article, no summary, no report or entry, no event. A URL is always
fetched (nothing stored is looked up, so a preview shows the page as it is now); a model
summary of the same text in the summary cache is reused (read, never written), so a preview
of a stored article costs no model call.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import close_transaction
from app.models import Article
from app.models.types import utcnow
from app.services.extract import ArticleText, extract_article, text_to_article
from app.services.fetch.client import with_scheme
from app.services.pipeline.draft import draft, given_url
from app.services.pipeline.page import read_url
from app.services.pipeline.run import ArticleResult, Placement, Tools
from app.services.pipeline.store import ioc_rows
from app.services.reports import dedupe, new_entry
from app.services.reports.sections import Section
from app.services.reports.urls import canonical_url

log = logging.getLogger("secdigest.pipeline")


async def preview_url(
    session: AsyncSession, tools: Tools, *, url: str, placement: Placement
) -> ArticleResult:
    """A URL fetched, read and summarized; nothing is stored."""
    url = with_scheme(url)
    key = canonical_url(url)
    await close_transaction(session)  # no transaction held across the fetch
    page, extracted = await read_url(tools, url)
    return await _preview(
        session,
        tools,
        extracted,
        url=key,
        final_url=page.final_url,
        source="url",
        placement=placement,
    )


async def preview_html(
    session: AsyncSession, tools: Tools, *, html: str, url: str | None, placement: Placement
) -> ArticleResult:
    """HTML the caller has, read and summarized; nothing is stored."""
    url, key = given_url(url)
    extracted = extract_article(html, url)
    return await _preview(
        session, tools, extracted, url=key, final_url=url, source="html", placement=placement
    )


async def preview_text(
    session: AsyncSession,
    tools: Tools,
    *,
    text: str,
    title: str | None,
    url: str | None,
    placement: Placement,
) -> ArticleResult:
    """Plain text summarized; nothing is stored."""
    url, key = given_url(url)
    extracted = text_to_article(text, title)
    return await _preview(
        session, tools, extracted, url=key, final_url=url, source="text", placement=placement
    )


async def _preview(
    session: AsyncSession,
    tools: Tools,
    extracted: ArticleText,
    *,
    url: str | None,
    final_url: str | None,
    source: str,
    placement: Placement,
) -> ArticleResult:
    drafted = await draft(
        session,
        tools,
        extracted,
        url=url,
        final_url=final_url,
        source=source,
        lang=placement.lang,
    )
    summary = drafted.summary
    article = Article(
        url=url,
        final_url=final_url,
        canonical_url=dedupe.accepted_canonical(extracted.canonical_url, final_url=final_url),
        source=source,
        title=drafted.title,
        published=extracted.published.isoformat() if extracted.published else None,
        lang=extracted.lang,
        author=extracted.author,
        site_name=extracted.site_name,
        text=drafted.text,
        content_hash=drafted.digest,
        iocs=ioc_rows(drafted.iocs),
        summaries=[summary],
        created_at=utcnow(),
    )
    item = new_entry(article, summary, placement.section or Section(summary.section))
    log.info(
        "pipeline.preview iocs=%d engine=%s summary_reused=%s chars=%d",
        len(drafted.iocs),
        summary.engine,
        drafted.reused,
        len(drafted.text),
    )
    return ArticleResult(
        article,
        summary,
        item,
        placement.day,
        cached=False,
        summary_reused=drafted.reused,
        stored=False,
    )
