"""An article's text made a summary: the text rule, the title, the IOCs, the summary.

What a stored submission (`run`) and one that is not stored (`preview`) have in common:
nothing here writes (the summary cache is read; the row it returns is new and unsaved).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotAnArticle
from app.models import Summary
from app.services.extract import ArticleText
from app.services.fetch.client import with_scheme
from app.services.iocs import Ioc, find_iocs
from app.services.iocs.flags import BenignList
from app.services.pipeline.store import content_hash
from app.services.reports.urls import canonical_url
from app.services.summarize import cache as summary_cache
from app.services.summarize.base import SummaryInput

if TYPE_CHECKING:
    from app.services.pipeline.run import Tools

# Below this much text a fetched page (or HTML) is a login wall, an error page or an index,
# not an article. A text the caller typed is an article however short: it only needs words.
MIN_ARTICLE_CHARS = 80


@dataclass(frozen=True, slots=True)
class Draft:
    """The article's text, title and IOCs, and its summary (a new row, or a cached copy)."""

    text: str
    title: str
    iocs: list[Ioc]
    digest: str
    summary: Summary
    reused: bool


def find(benign: BenignList, title: str | None, text: str, source_url: str | None) -> list[Ioc]:
    """The indicators of an article; the title is part of the evidence."""
    source = f"{title}\n\n{text}" if title else text
    return find_iocs(source, source_url=source_url, benign=benign)


def article_text(extracted: ArticleText, *, source: str) -> str:
    """The text to summarize; NotAnArticle when a page has too little (or a text none)."""
    text = extracted.text.strip()
    if source == "text":
        if not text:
            raise NotAnArticle("the text is empty: there is nothing to summarize", chars=0)
    elif len(text) < MIN_ARTICLE_CHARS:
        raise NotAnArticle("no article text found in the page", chars=len(text))
    return text


def given_url(url: str | None) -> tuple[str | None, str | None]:
    """The URL a caller gave with its HTML or text (https when it has no scheme) and its
    canonical key; (None, None) without one."""
    if not url:
        return None, None
    full = with_scheme(url)
    return full, canonical_url(full)


async def draft(
    session: AsyncSession,
    tools: Tools,
    extracted: ArticleText,
    *,
    url: str | None,
    final_url: str | None,
    source: str,
    lang: str,
) -> Draft:
    """Check the text, find its IOCs and summarize it (a cached model summary if any)."""
    text = article_text(extracted, source=source)
    title = (extracted.title or "").strip() or text.split("\n", 1)[0][:200]
    iocs = find(tools.benign, title, text, final_url or url)
    summary_input = SummaryInput(
        text=text,
        title=title,
        url=url or final_url,
        source_lang=extracted.lang,
        target_lang=lang,
        iocs=tuple(iocs),
    )
    digest = content_hash(text)
    summary, reused = await summary_cache.summarize(
        session, tools.summarizer, summary_input, content_hash=digest
    )
    return Draft(text, title, iocs, digest, summary, reused)
