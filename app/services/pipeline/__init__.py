"""One article through every step: fetch, extract, find IOCs, summarize, store, place.

`run` is the only module that knows the order of the steps; the API, the CLI and the jobs
all come through it. `store` writes the article (its key, races, the rewrite of a forced
submission); `limits` bounds the slow steps (fetches per host and in all, model calls).

Public surface: `run_submission`, `summarize_url`, `summarize_urls`, `summarize_html`,
`summarize_text`, `Submission`, `Placement`, `Tools`, `ArticleResult`, `UrlFailure`,
`Outcome`, `content_hash`, `Limits`, `BoundedEngine`.
"""

from app.services.pipeline.limits import BoundedEngine, Limits
from app.services.pipeline.run import (
    MIN_ARTICLE_CHARS,
    ArticleResult,
    Outcome,
    Placement,
    Submission,
    Tools,
    UrlFailure,
    run_submission,
    summarize_html,
    summarize_text,
    summarize_url,
    summarize_urls,
)
from app.services.pipeline.store import content_hash

__all__ = [
    "MIN_ARTICLE_CHARS",
    "ArticleResult",
    "BoundedEngine",
    "Limits",
    "Outcome",
    "Placement",
    "Submission",
    "Tools",
    "UrlFailure",
    "content_hash",
    "run_submission",
    "summarize_html",
    "summarize_text",
    "summarize_url",
    "summarize_urls",
]
