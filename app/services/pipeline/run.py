"""One article through every step: fetch, extract, find IOCs, summarize, store, place.

The only module that knows the order of the steps; the API, the CLI and the jobs all come
through here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import close_transaction
from app.models import Article, ReportItem, Summary
from app.services.delivery.items import announce_item
from app.services.extract import ArticleText, extract_article, text_to_article
from app.services.fetch import FetchPolicy
from app.services.fetch.client import with_scheme
from app.services.iocs import Ioc
from app.services.iocs.flags import BenignList
from app.services.pipeline.draft import draft, find, given_url
from app.services.pipeline.limits import Limits
from app.services.pipeline.page import read_url
from app.services.pipeline.store import (
    content_hash,
    store_article,
    stored_summary,
)
from app.services.reports import Placed, dedupe, place_article
from app.services.reports.sections import Section
from app.services.reports.urls import canonical_url
from app.services.summarize import cache as summary_cache
from app.services.summarize.base import SummaryEngine, SummaryInput

log = logging.getLogger("secdigest.pipeline")


@dataclass(frozen=True, slots=True)
class Tools:
    """The long-lived clients the pipeline works with (built once by AppState)."""

    http: httpx.AsyncClient
    summarizer: SummaryEngine
    fetch_policy: FetchPolicy
    benign: BenignList
    # Fetches (in all and per host) are bounded here; model calls by the engine AppState
    # wraps (limits.BoundedEngine), so that a fetch slot is never held through a model call.
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the article goes: which day's report, which section, which language."""

    day: date
    lang: str
    section: Section | None = None


@dataclass(frozen=True, slots=True)
class ArticleResult:
    """A stored article with the summary used and the report item it sits in.

    With `stored` false (a submission with `store: false`, app/services/pipeline/preview.py)
    the three rows are new and unsaved: no id, in no session, in no report.
    """

    article: Article
    summary: Summary
    item: ReportItem
    day: date
    cached: bool
    # The summary was a cached model summary of the same text: no model call this time.
    summary_reused: bool = False
    stored: bool = True


async def summarize_url(
    session: AsyncSession,
    tools: Tools,
    *,
    url: str,
    placement: Placement,
    force: bool = False,
) -> ArticleResult:
    """The whole pipeline for a URL; a known URL costs no fetch and no model call."""
    url = with_scheme(url)  # `www.example.com/news` is read as https, as browsers do
    key = canonical_url(url)
    if not force:
        existing = await dedupe.find_known(session, key)
        if existing is not None:
            return await _reuse(session, tools, existing, placement)
    await close_transaction(session)  # no transaction held across the fetch
    page, extracted = await read_url(tools, url)
    known = None
    if not force:
        known = await dedupe.known_elsewhere(
            session, key, final_url=page.final_url, declared=extracted.canonical_url
        )
    if known is not None:
        # A stored article under another of its URLs: no summary, no item of its own.
        log.info("pipeline.duplicate url=%s article=%s", key, known.id)
        reused = await _reuse(session, tools, known, placement)
        return ArticleResult(
            reused.article, reused.summary, reused.item, reused.day, False, reused.cached
        )
    return await _process(
        session,
        tools,
        extracted,
        url=key,
        final_url=page.final_url,
        source="url",
        placement=placement,
    )


async def summarize_html(
    session: AsyncSession,
    tools: Tools,
    *,
    html: str,
    url: str | None,
    placement: Placement,
) -> ArticleResult:
    """The pipeline for HTML the caller already has (no fetch)."""
    url, key = given_url(url)
    extracted = extract_article(html, url)
    return await _process(
        session, tools, extracted, url=key, final_url=url, source="html", placement=placement
    )


async def summarize_text(
    session: AsyncSession,
    tools: Tools,
    *,
    text: str,
    title: str | None,
    url: str | None,
    placement: Placement,
    force: bool = False,
) -> ArticleResult:
    """The pipeline for plain text (no fetch, no extraction); a known text costs no model call.

    A text is known by its content hash, as a page is by its URL: the text as stored (line
    endings, blank-line paragraphs, runs of spaces and tabs, leading and trailing space
    normalised, a guessed headline taken off) with every run of whitespace made one space.
    Case and Unicode forms are kept: they are the evidence the IOCs and offsets come from.
    The options, for a text already stored:

    - ``title`` names the entry; it does not make another article (the same story under a
      new headline is the same story): the stored title stays, ``force`` replaces it.
    - ``lang`` picks the summary's language: a stored one is the answer (``cached``), a new
      one summarizes the stored text again, one article and one entry all the same.
    - ``force`` summarizes again and rewrites the stored article in place (title, IOCs,
      entry), as a forced URL is fetched again into its own row: never a second article.
    - With a ``url`` the URL is the key, as it was: the text is answered from storage when
      the URL's article holds the same text, and rewrites that article when it does not.
    """
    url, key = given_url(url)
    extracted = text_to_article(text, title)
    if not force:
        stored = await dedupe.find_text(session, content_hash(extracted.text), url=key)
        if stored is not None:
            return await _reuse(session, tools, stored, placement)
    return await _process(
        session,
        tools,
        extracted,
        url=key,
        final_url=url,
        source="text",
        placement=placement,
        force=force,
    )


async def _reuse(
    session: AsyncSession, tools: Tools, article: Article, placement: Placement
) -> ArticleResult:
    summary = stored_summary(article, placement.lang)
    cached = summary is not None
    if summary is None:
        # Known article, new language: summarize the stored text again, nothing is fetched.
        iocs = find(tools.benign, article.title, article.text, article.url or article.final_url)
        summary, _ = await summary_cache.summarize(
            session,
            tools.summarizer,
            _summary_input(article, iocs, placement.lang),
            content_hash=article.content_hash,
        )
        article.summaries.append(summary)
        await session.flush()
    section = placement.section or Section(summary.section)
    placed = await place_article(
        session, day=placement.day, article=article, summary=summary, section=section
    )
    item = await _announced(session, placed, placement.day)
    log.info("pipeline.reused article=%s cached=%s", article.id, cached)
    return ArticleResult(article, summary, item, placement.day, cached=cached)


async def _announced(session: AsyncSession, placed: Placed, day: date) -> ReportItem:
    """The entry; `item.added` owed to the webhooks that asked when it is a new one."""
    if placed.added:
        await announce_item(session, placed.item, day)
    return placed.item


def _summary_input(article: Article, iocs: list[Ioc], lang: str) -> SummaryInput:
    return SummaryInput(
        text=article.text,
        title=article.title,
        url=article.url or article.final_url,
        source_lang=article.lang,
        target_lang=lang,
        iocs=tuple(iocs),
    )


async def _process(
    session: AsyncSession,
    tools: Tools,
    extracted: ArticleText,
    *,
    url: str | None,
    final_url: str | None,
    source: str,
    placement: Placement,
    force: bool = False,
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
    text, title, iocs, digest = drafted.text, drafted.title, drafted.iocs, drafted.digest
    summary, reused = drafted.summary, drafted.reused
    # A text without a URL is keyed by its content (summarize_text); a URL is its own key,
    # and HTML without one has none (each submission is an article, as before).
    text_key = digest if source == "text" and url is None else None
    article, raced = await store_article(
        session,
        url=url,
        text_key=text_key,
        # A text is its content: the same text found stored now was stored by a concurrent
        # submission (the lookup before the summary missed it), and is the answer unless
        # forced. A page found under its URL is rewritten, as before: a fetch brings the
        # page's newer state.
        keep_same_text=source == "text" and not force,
        fields={
            "final_url": final_url,
            # Only a canonical on the page's own site: find_known trusts this column.
            "canonical_url": dedupe.accepted_canonical(
                extracted.canonical_url, final_url=final_url
            ),
            "source": source,
            "title": title,
            "published": extracted.published.isoformat() if extracted.published else None,
            "lang": extracted.lang,
            "author": extracted.author,
            "site_name": extracted.site_name,
            "text": text,
            "content_hash": digest,
            "text_key": text_key,
        },
        iocs=iocs,
    )
    stored = stored_summary(article, placement.lang) if raced else None
    if stored is not None:
        # Another request stored this article while we summarized it (the same text or page
        # sent at once): its summary is the answer, so that every caller gets one entry, and
        # the article keeps one summary per language instead of one per caller.
        summary = stored
    else:
        article.summaries.append(summary)
        await session.flush()
    section = placement.section or Section(summary.section)
    placed = await place_article(
        session,
        day=placement.day,
        article=article,
        summary=summary,
        section=section,
        # The winner of a race placed the article with its own summary: that entry stays.
        refresh=not raced,
    )
    item = await _announced(session, placed, placement.day)
    log.info(
        "pipeline.done article=%s iocs=%d engine=%s summary_reused=%s chars=%d",
        article.id,
        len(iocs),
        summary.engine,
        reused,
        len(text),
    )
    return ArticleResult(article, summary, item, placement.day, cached=False, summary_reused=reused)
