"""One article through every step: fetch, extract, find IOCs, summarize, store, place.

The only module that knows the order of the steps; the API, the CLI and (later) the jobs
all come through here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import close_transaction
from app.errors import InvalidRequest, NotAnArticle, SecdigestError
from app.models import Article, ArticleIoc, ReportItem, Summary
from app.services import dedupe, summaries
from app.services.extract import ArticleText, extract_article, text_to_article
from app.services.extract_pdf import extract_pdf, looks_like_pdf
from app.services.fetch import FetchPolicy, fetch_page
from app.services.iocs import Ioc, find_iocs
from app.services.iocs_flags import BenignList
from app.services.limits import Limits
from app.services.reports import place_article
from app.services.sections import Section
from app.services.summarize.base import SummaryEngine, SummaryInput
from app.services.urls import canonical_url

log = logging.getLogger("secdigest.pipeline")

# Below this much text a page is a login wall, an error page or an index, not an article.
MIN_ARTICLE_CHARS = 80


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
    """A stored article with the summary used and the report item it sits in."""

    article: Article
    summary: Summary
    item: ReportItem
    day: date
    cached: bool
    # The summary was a cached model summary of the same text: no model call this time.
    summary_reused: bool = False


def content_hash(text: str) -> str:
    """Hash of the extracted text: the same article under two URLs has the same one."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


async def summarize_url(
    session: AsyncSession,
    tools: Tools,
    *,
    url: str,
    placement: Placement,
    force: bool = False,
) -> ArticleResult:
    """The whole pipeline for a URL; a known URL costs no fetch and no model call."""
    key = canonical_url(url)
    if not force:
        existing = await dedupe.find_known(session, key)
        if existing is not None:
            return await _reuse(session, tools, existing, placement)
    await close_transaction(session)  # no transaction held across the fetch
    async with tools.limits.fetch(url):
        page = await fetch_page(tools.http, tools.fetch_policy, url=url)
    if looks_like_pdf(page.body, page.content_type):
        extracted = await asyncio.to_thread(extract_pdf, page.body, page.final_url)
    else:
        extracted = extract_article(page.body, page.final_url, content_type=page.content_type)
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
    key = canonical_url(url) if url else None
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
) -> ArticleResult:
    """The pipeline for plain text (no fetch, no extraction)."""
    key = canonical_url(url) if url else None
    extracted = text_to_article(text, title)
    return await _process(
        session, tools, extracted, url=key, final_url=url, source="text", placement=placement
    )


async def _reuse(
    session: AsyncSession, tools: Tools, article: Article, placement: Placement
) -> ArticleResult:
    summary = _stored_summary(article, placement.lang)
    cached = summary is not None
    if summary is None:
        # Known article, new language: summarize the stored text again, nothing is fetched.
        iocs = _find(tools, article.title, article.text, article.url or article.final_url)
        summary, _ = await summaries.summarize(
            session,
            tools.summarizer,
            _summary_input(article, iocs, placement.lang),
            content_hash=article.content_hash,
        )
        article.summaries.append(summary)
        await session.flush()
    section = placement.section or Section(summary.section)
    item = await place_article(
        session, day=placement.day, article=article, summary=summary, section=section
    )
    log.info("pipeline.reused article=%s cached=%s", article.id, cached)
    return ArticleResult(article, summary, item, placement.day, cached=cached)


def _stored_summary(article: Article, lang: str) -> Summary | None:
    matching = [s for s in article.summaries if s.requested_lang == lang]
    return matching[-1] if matching else None


def _find(tools: Tools, title: str | None, text: str, source_url: str | None) -> list[Ioc]:
    # The title is part of the evidence: an indicator in a headline is an indicator.
    source = f"{title}\n\n{text}" if title else text
    return find_iocs(source, source_url=source_url, benign=tools.benign)


def _summary_input(article: Article, iocs: list[Ioc], lang: str) -> SummaryInput:
    return SummaryInput(
        text=article.text,
        title=article.title,
        url=article.url or article.final_url,
        source_lang=article.lang,
        target_lang=lang,
        iocs=tuple(iocs),
    )


def _ioc_rows(iocs: list[Ioc]) -> list[ArticleIoc]:
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


async def _process(
    session: AsyncSession,
    tools: Tools,
    extracted: ArticleText,
    *,
    url: str | None,
    final_url: str | None,
    source: str,
    placement: Placement,
) -> ArticleResult:
    text = extracted.text.strip()
    if len(text) < MIN_ARTICLE_CHARS:
        raise NotAnArticle("no article text found in the page", chars=len(text))
    title = (extracted.title or "").strip() or text.split("\n", 1)[0][:200]
    iocs = _find(tools, title, text, final_url or url)
    summary_input = SummaryInput(
        text=text,
        title=title,
        url=url or final_url,
        source_lang=extracted.lang,
        target_lang=placement.lang,
        iocs=tuple(iocs),
    )
    digest = content_hash(text)
    summary, reused = await summaries.summarize(
        session, tools.summarizer, summary_input, content_hash=digest
    )
    article = await _store_article(
        session,
        url=url,
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
        },
        iocs=iocs,
    )
    article.summaries.append(summary)
    await session.flush()
    section = placement.section or Section(summary.section)
    item = await place_article(
        session,
        day=placement.day,
        article=article,
        summary=summary,
        section=section,
        refresh=True,
    )
    log.info(
        "pipeline.done article=%s iocs=%d engine=%s summary_reused=%s chars=%d",
        article.id,
        len(iocs),
        summary.engine,
        reused,
        len(text),
    )
    return ArticleResult(article, summary, item, placement.day, cached=False, summary_reused=reused)


async def _store_article(
    session: AsyncSession, *, url: str | None, fields: dict[str, object], iocs: list[Ioc]
) -> Article:
    """Insert the article, or update the row of the same URL (a forced re-fetch).

    The row is locked while it is rewritten (FOR UPDATE on PostgreSQL; SQLite has one
    writer anyway), so that two forced re-fetches of one URL do not interleave.
    """
    existing = await _locked_article(session, url) if url else None
    if existing is None:
        article = Article(url=url, iocs=_ioc_rows(iocs), summaries=[], **fields)
        try:
            async with session.begin_nested():
                session.add(article)
            return article
        except IntegrityError:
            # Another request stored the same URL meanwhile, from the same page fetched at
            # the same time: that row is the article.
            winner = await _locked_article(session, url)
            if winner is None:  # pragma: no cover - the winner was rolled back
                raise
            return winner
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.iocs.clear()
    await session.flush()
    existing.iocs.extend(_ioc_rows(iocs))
    await session.flush()
    return existing


async def _locked_article(session: AsyncSession, url: str | None) -> Article | None:
    return await session.scalar(
        select(Article)
        .where(Article.url == url)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@dataclass(frozen=True, slots=True)
class UrlFailure:
    """A URL of a batch that failed; the batch goes on without it."""

    url: str
    error: SecdigestError


async def summarize_urls(
    session: AsyncSession,
    tools: Tools,
    *,
    urls: list[str],
    placement: Placement,
    force: bool = False,
) -> list[ArticleResult | UrlFailure]:
    """Several URLs one by one; each is stored as it finishes, each failure reported in place."""
    results: list[ArticleResult | UrlFailure] = []
    for url in urls:
        try:
            results.append(
                await summarize_url(session, tools, url=url, placement=placement, force=force)
            )
        except SecdigestError as exc:
            # Problems arise while fetching, extracting or summarizing: before anything of
            # this URL is written, so there is nothing to undo.
            log.info("pipeline.failed url=%s problem=%s", url, exc.slug)
            results.append(UrlFailure(url, exc))
        # Each URL's work is kept as it finishes; the next fetch holds no lock.
        await close_transaction(session)
    return results


@dataclass(frozen=True, slots=True)
class Submission:
    """What a caller asks for: one source (url, urls, html or text) and where it goes."""

    placement: Placement
    url: str | None = None
    urls: tuple[str, ...] | None = None
    html: str | None = None
    text: str | None = None
    title: str | None = None
    force: bool = False


Outcome = ArticleResult | list[ArticleResult | UrlFailure]


async def run_submission(session: AsyncSession, tools: Tools, submission: Submission) -> Outcome:
    """Dispatch a submission to the right entry of the pipeline (API, jobs and CLI alike)."""
    placement = submission.placement
    if submission.urls is not None:
        return await summarize_urls(
            session, tools, urls=list(submission.urls), placement=placement, force=submission.force
        )
    if submission.html is not None:
        return await summarize_html(
            session, tools, html=submission.html, url=submission.url, placement=placement
        )
    if submission.text is not None:
        return await summarize_text(
            session,
            tools,
            text=submission.text,
            title=submission.title,
            url=submission.url,
            placement=placement,
        )
    if submission.url is None:
        raise InvalidRequest("give exactly one of url, urls, html or text")
    return await summarize_url(
        session, tools, url=submission.url, placement=placement, force=submission.force
    )
