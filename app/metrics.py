"""Prometheus metrics of the service (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LLM_CALLS = Counter(
    "secdigest_llm_calls_total", "Model calls, by outcome", ["outcome"]
)  # outcome: ok, retry, invalid, error, timeout, breaker_open
LLM_TOKENS = Counter("secdigest_llm_tokens_total", "Tokens used by model calls", ["kind"])
SUMMARIES = Counter(
    "secdigest_summaries_total", "Summaries written, by engine", ["engine", "degraded"]
)
GROUNDING_DROPPED = Counter(
    "secdigest_grounding_dropped_total",
    "Values a model produced that the source text does not support, dropped",
    ["kind"],
)  # kind: ioc, cve, attack_technique
SUMMARY_SECONDS = Histogram(
    "secdigest_summary_seconds", "Time to summarize one article", ["engine"]
)
