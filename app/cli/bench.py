"""`secdigest bench llm`: the configured model on the shared summarization sets.

Prints Markdown tables (quality against the references beside the offline engine and
lead-k; grounding, cost and speed; the prompt-injection pages and how many orders the
model obeyed) and writes the whole report as JSON under ``--out``. The injection pages
(``bench/llm_injection`` of the source tree, or ``--injection DIR``) are a run of their
own after the sets, skipped with ``--no-injection`` or when the folder is not there.
Without a model configured it says how to configure one, in one line, status 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from app.cli._common import CliError, run_async, settings
from app.services.llmbench import (
    BenchDataError,
    build_report,
    load_articles,
    prices_of,
    render_markdown,
    run,
)
from app.services.llmbench.injection import load_cases

NO_MODEL = (
    "secdigest: no model configured: set SECDIGEST_LLM_BASE_URL (and SECDIGEST_LLM_API_KEY, "
    "SECDIGEST_LLM_MODEL) to an OpenAI-compatible endpoint\n"
)
LEAD_K = 6  # the offline engine gives 5.6 bullets on average (docs/summaries.md)
# The benchmark's own pages, beside this package in the source tree.
INJECTION_DIR = Path(__file__).resolve().parents[2] / "bench" / "llm_injection"


def _injection_dir(args: argparse.Namespace) -> Path | None:
    if getattr(args, "no_injection", False):
        return None
    given = getattr(args, "injection", None)
    if given is not None:
        folder = Path(given)
        if not (folder / "cases.json").is_file():
            raise CliError(f"bench llm: {folder}: no cases.json (--injection names the pages)")
        return folder
    return INJECTION_DIR if (INJECTION_DIR / "cases.json").is_file() else None


def cmd_bench(args: argparse.Namespace) -> int:
    """Dispatch `bench ACTION` (only `llm` for now)."""
    return bench_llm(args)


def bench_llm(args: argparse.Namespace) -> int:
    """Run the model benchmark; the tables on stdout, the JSON file's path on stderr."""
    current = settings()
    if not current.llm_configured:
        sys.stderr.write(NO_MODEL)
        return 2
    if args.limit is not None and args.limit < 1:
        raise CliError("bench llm: --limit must be at least 1")
    concurrency = args.concurrency or current.llm_concurrency
    if concurrency < 1:
        raise CliError("bench llm: --concurrency must be at least 1")
    lang = args.lang or "en"
    try:
        prices = prices_of(current)
        articles = load_articles(Path(args.shared), limit=args.limit, sets=tuple(args.set or ()))
        folder = _injection_dir(args)
        cases = load_cases(folder, lang) if folder is not None else []
    except BenchDataError as exc:
        raise CliError(f"bench llm: {exc}") from None
    out = Path(args.out)
    cache = out / "llm-cache"
    outcome = run_async(run(current, articles, lang=lang, concurrency=concurrency, cache_dir=cache))
    injection = None
    if cases:
        pages = [article for _, article in cases]
        injected = run_async(
            run(current, pages, lang=lang, concurrency=concurrency, cache_dir=cache)
        )
        injection = (injected, cases)
    report = build_report(
        outcome,
        articles,
        endpoint=current.llm_base_url,
        mode=current.llm_mode,
        lang=lang,
        concurrency=concurrency,
        lead_k=LEAD_K,
        prices=prices,
        injection=injection,
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", outcome.model).strip("_") or "model"
    path = out / f"llm-{slug}-{stamp}.json"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(render_markdown(report))
    sys.stderr.write(f"secdigest: bench llm: wrote {path}\n")
    return 0
