"""Model benchmark: the configured OpenAI-compatible model on the summarization sets, the
extraction benchmark's security pages and the prompt-injection pages of bench/llm_injection.

`secdigest bench llm` with the bench data of the other benchmarks: ROUGE-1/2/L against the
authors' summaries beside the offline engine and lead-6, grounding (values dropped,
articles with an invented indicator), schema failures and re-asks, degraded articles and
why, tokens (and USD with SECDIGEST_LLM_PRICE_IN / _OUT per million), latency p50/p95 and
articles per minute. Results are cached per article, model and prompt version under
var/bench/llm-cache/: a rerun calls the model only for what is missing.

    SECDIGEST_LLM_BASE_URL=http://127.0.0.1:11434/v1 SECDIGEST_LLM_MODEL=qwen2.5:14b \
      SECDIGEST_LLM_MODE=json make bench-llm BENCH_LLM_ARGS="--limit 20 --concurrency 4"
"""

from __future__ import annotations

import sys

from app.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "llm", *sys.argv[1:]]))
