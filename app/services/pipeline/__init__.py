"""One article through every step: fetch, extract, find IOCs, summarize, store, place.

`run` is the only module that knows the order of the steps; the API, the CLI and the jobs
all come through it. `submit` sends a submission to its entry; `preview` runs the steps of a
submission that is not stored (`store: false`) and writes nothing; `draft` is what both do
with an article's text (the text rule, IOCs, summary); `page` fetches and reads a URL (a feed
is refused: it is subscribed to, not summarized). `store` writes the article (its key,
races, the rewrite of a forced submission); `limits` bounds the slow steps (fetches per host
and in all, model calls).

Public surface: `run_submission`, `summarize_url`, `summarize_urls`, `summarize_html`,
`summarize_text`, `preview_url`, `Submission`, `Placement`, `Tools`, `ArticleResult`,
`UrlFailure`, `Outcome`, `content_hash`, `Limits`, `BoundedEngine`, `MIN_ARTICLE_CHARS`.
"""

from app.services.pipeline.draft import MIN_ARTICLE_CHARS
from app.services.pipeline.limits import BoundedEngine, Limits
from app.services.pipeline.preview import preview_url
from app.services.pipeline.run import (
    ArticleResult,
    Placement,
    Tools,
    summarize_html,
    summarize_text,
    summarize_url,
)
from app.services.pipeline.store import content_hash
from app.services.pipeline.submit import (
    Outcome,
    Submission,
    UrlFailure,
    run_submission,
    summarize_urls,
)

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
    "preview_url",
    "run_submission",
    "summarize_html",
    "summarize_text",
    "summarize_url",
    "summarize_urls",
]
