"""A submission (one URL, a batch, HTML or text; stored or not) sent to its pipeline entry."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import close_transaction
from app.errors import InvalidRequest, SecdigestError
from app.services.pipeline.preview import preview_html, preview_text, preview_url
from app.services.pipeline.run import (
    ArticleResult,
    Placement,
    Tools,
    summarize_html,
    summarize_text,
    summarize_url,
)

log = logging.getLogger("secdigest.pipeline")


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
    store: bool = True,
) -> list[ArticleResult | UrlFailure]:
    """Several URLs one by one; each is stored as it finishes, each failure reported in place.

    With `store` false none is stored (each is read and summarized, as `preview_url`).
    """
    results: list[ArticleResult | UrlFailure] = []
    for url in urls:
        try:
            if store:
                result = await summarize_url(
                    session, tools, url=url, placement=placement, force=force
                )
            else:
                result = await preview_url(session, tools, url=url, placement=placement)
            results.append(result)
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
    """What a caller asks for: one source (url, urls, html or text) and where it goes.

    `store` false reads and summarizes without writing anything (no article, no entry).
    """

    placement: Placement
    url: str | None = None
    urls: tuple[str, ...] | None = None
    html: str | None = None
    text: str | None = None
    title: str | None = None
    force: bool = False
    store: bool = True


Outcome = ArticleResult | list[ArticleResult | UrlFailure]


async def run_submission(session: AsyncSession, tools: Tools, submission: Submission) -> Outcome:
    """Dispatch a submission to the right entry of the pipeline (API, jobs and CLI alike)."""
    placement, store = submission.placement, submission.store
    if submission.urls is not None:
        return await summarize_urls(
            session,
            tools,
            urls=list(submission.urls),
            placement=placement,
            force=submission.force,
            store=store,
        )
    if submission.html is not None:
        entry = summarize_html if store else preview_html
        return await entry(
            session, tools, html=submission.html, url=submission.url, placement=placement
        )
    if submission.text is not None:
        if not store:
            return await preview_text(
                session,
                tools,
                text=submission.text,
                title=submission.title,
                url=submission.url,
                placement=placement,
            )
        return await summarize_text(
            session,
            tools,
            text=submission.text,
            title=submission.title,
            url=submission.url,
            placement=placement,
            force=submission.force,
        )
    if submission.url is None:
        raise InvalidRequest("give exactly one of url, urls, html or text")
    if not store:
        return await preview_url(session, tools, url=submission.url, placement=placement)
    return await summarize_url(
        session, tools, url=submission.url, placement=placement, force=submission.force
    )
