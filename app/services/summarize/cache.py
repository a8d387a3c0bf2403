"""Summaries of articles: the engine call, its storage, and the cache that avoids it.

A model summary is keyed by (content hash, model, language asked, prompt version): the same
article under another URL, or submitted again, costs no model call. The offline engine is
cheap and never cached; a degraded answer (the model failed) is not a model summary and is
not reused for another URL.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import close_transaction
from app.metrics import SUMMARIES, SUMMARY_SECONDS
from app.models import Summary
from app.services.summarize.base import SummaryEngine, SummaryInput, SummaryResult

log = logging.getLogger("secdigest.summaries")


def summary_row(result: SummaryResult, *, requested_lang: str, content_hash: str | None) -> Summary:
    """A new (unsaved) summary row from an engine's result, whose fields are its columns."""
    # asdict copies the lists and dicts: the row shares none with the result.
    fields = dataclasses.asdict(result)
    fields["section"] = result.section.value
    return Summary(**fields, requested_lang=requested_lang, content_hash=content_hash)


# A copy gets its own key, article and time; every other column is the cached row's.
_OWN_COLUMNS = frozenset({"id", "article_id", "created_at"})


def _copy(cached: Summary) -> Summary:
    """The cached summary for another article row; it cost nothing this time."""
    fields = {
        column.key: copy.deepcopy(getattr(cached, column.key))
        for column in inspect(Summary).column_attrs
        if column.key not in _OWN_COLUMNS
    }
    return Summary(**{**fields, "degraded": False, "degraded_reason": None, "usage": {}})


async def cached_summary(
    session: AsyncSession, engine: SummaryEngine, *, content_hash: str, requested_lang: str
) -> Summary | None:
    """A model summary of the same text, by the same model and prompt, in the same language."""
    if engine.name != "llm":
        return None
    return await session.scalar(
        select(Summary)
        .where(
            Summary.content_hash == content_hash,
            Summary.engine == "llm",
            Summary.model == engine.model,
            Summary.prompt_version == engine.prompt_version,
            Summary.requested_lang == requested_lang,
            Summary.degraded.is_(False),
        )
        .order_by(Summary.id.desc())
        .limit(1)
    )


async def summarize(
    session: AsyncSession,
    engine: SummaryEngine,
    doc: SummaryInput,
    *,
    content_hash: str,
) -> tuple[Summary, bool]:
    """The summary row for a document and whether it came from the cache."""
    cached = await cached_summary(
        session, engine, content_hash=content_hash, requested_lang=doc.target_lang
    )
    if cached is not None:
        log.info("summary.cached hash=%s model=%s", content_hash[:12], cached.model)
        return _copy(cached), True
    await close_transaction(session)  # a model call takes seconds: hold no transaction
    started = time.perf_counter()
    result = await engine.summarize(doc)
    SUMMARY_SECONDS.labels(engine=result.engine).observe(time.perf_counter() - started)
    SUMMARIES.labels(engine=result.engine, degraded=str(result.degraded).lower()).inc()
    row = summary_row(result, requested_lang=doc.target_lang, content_hash=content_hash)
    return row, False
