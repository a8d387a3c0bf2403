"""The model benchmark (`secdigest bench llm`): the service's summary engine on the shared
summarization sets, with quality, grounding, cost and speed per model.

Public surface:
- `load_articles(shared, limit=, sets=)`, `Article`, `BenchDataError`: the articles of
  ``DIR/summarize/<set>/{src,ref}`` and their reference summaries
- `run(settings, articles, lang=, concurrency=, cache_dir=)` -> `Run`: each article through
  `build_engine(settings)` (the service's engine), a few at a time, cached per article,
  model, prompt version and language
- `build_report(run, articles, ...)`, `render_markdown(report)`: the JSON document and its
  two Markdown tables; `prices_of(settings)`
- `rouge(summary, reference)` -> `Rouge` (ROUGE-1/2/L F1, rouge-score's numbers without
  stemming), `rouge_n`, `rouge_l`, `tokens`; `percentile`, `mean`
- `japanese`: `ja_share(text)`, `check_ids(source, output)` (``--lang ja``'s columns)
- `injection`: `load_cases(folder, lang)` (the pages of ``bench/llm_injection`` through
  the pipeline's extractor), `judge`, `summarize_cases` (orders obeyed, per kind)

Modules: `data` (the sets, lead-k), `runner` (the engine, the hooks, the cache), `report`,
`rouge`, `stats`, `japanese`, `injection`.
"""

from app.services.llmbench.data import Article, BenchDataError, lead, load_articles
from app.services.llmbench.report import build_report, prices_of, render_markdown
from app.services.llmbench.rouge import Rouge, rouge, rouge_l, rouge_n, tokens
from app.services.llmbench.runner import Run, run
from app.services.llmbench.stats import mean, percentile

__all__ = [
    "Article",
    "BenchDataError",
    "Rouge",
    "Run",
    "build_report",
    "lead",
    "load_articles",
    "mean",
    "percentile",
    "prices_of",
    "render_markdown",
    "rouge",
    "rouge_l",
    "rouge_n",
    "run",
    "tokens",
]
