"""The LLM engine: one model call per article through instructor, grounded, never raising.

How a call is made: openai's AsyncOpenAI (any OpenAI-compatible endpoint, its own retries
off) wrapped by ``instructor.from_openai`` in the configured mode, and
``create_with_completion(response_model=DigestEntry, max_retries=1)``. The work is split:

* instructor owns validation: an answer that is not valid JSON or not a valid
  `DigestEntry` is re-asked once with the error (``max_retries=1``), then given up;
* this module owns transport: 429 / 5xx / connection errors are retried up to
  ``llm_max_retries`` times with exponential backoff, or after the server's
  ``Retry-After`` (seconds or an HTTP date), and never by sleeping past the deadline;
* ``asyncio.timeout`` bounds the whole article (retries and re-ask included) by
  ``llm_timeout``, whatever the client's own timeout does;
* a `CircuitBreaker` skips the model after ``llm_breaker_failures`` failed articles.

Any model failure ends in the offline engine's entry with ``degraded=True`` and a reason
("timeout", "rate-limited", "model error 503", "connection error", "invalid output",
"circuit open"); ``summarize`` does not raise. The model never decides what the IOCs are:
its output is grounded against the regex engine's findings (see `grounding`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import instructor
import openai
from instructor.core import IncompleteOutputException, InstructorRetryException

from app.metrics import LLM_CALLS, LLM_TOKENS
from app.services.iocs import find_iocs
from app.services.summarize.base import SummaryInput, SummaryResult
from app.services.summarize.breaker import CircuitBreaker
from app.services.summarize.grounding import Evidence, ground
from app.services.summarize.llm_schema import DigestEntry
from app.services.summarize.offline import summarize_offline
from app.services.summarize.prompt import PROMPT_VERSION, build_prompt
from app.services.summarize.tokens import count_tokens
from app.settings import Settings

log = logging.getLogger("secdigest.summarize")

MODES: dict[str, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "md_json": instructor.Mode.MD_JSON,
}
VALIDATION_RETRIES = 1  # instructor's re-asks after an invalid answer
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0  # seconds: 0.5, 1, 2 ... when no Retry-After
_RETRYABLE_STATUS = frozenset({408, 409, 429})


@lru_cache(maxsize=1)
def schema_tokens() -> int:
    """Tokens of the output schema, which instructor sends with every request."""
    return count_tokens(json.dumps(DigestEntry.model_json_schema()))


class ModelFailure(Exception):
    """The model gave no usable answer for this article; ``reason`` goes into the result."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class _Usage:
    """Tokens of every answer received for one article (re-asks and retries included)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, response: Any) -> None:
        usage = getattr(response, "usage", None)
        for kind in ("prompt", "completion", "total"):
            n = getattr(usage, f"{kind}_tokens", None)
            if isinstance(n, int) and n > 0:
                # OpenAI's own names: what SOAR playbooks already read elsewhere.
                key = f"{kind}_tokens"
                self.counts[key] = self.counts.get(key, 0) + n
                if kind != "total":  # the metric's sum is the total
                    LLM_TOKENS.labels(kind=kind).inc(n)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _retry_after(error: openai.APIStatusError) -> float | None:
    headers = error.response.headers
    ms = headers.get("retry-after-ms")  # OpenAI's own, more precise than Retry-After
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))


def _api_error(exc: BaseException) -> openai.APIError | None:
    """The openai error behind instructor's wrapper, if the failure was the transport."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, openai.APIError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def classify(exc: BaseException) -> tuple[str, bool, float | None]:
    """(reason, retryable, server's wait) for a failed call."""
    error = _api_error(exc)
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        retryable = status in _RETRYABLE_STATUS or status >= 500
        reason = "rate-limited" if status == 429 else f"model error {status}"
        return reason, retryable, _retry_after(error) if retryable else None
    if isinstance(error, openai.APITimeoutError):
        return "timeout", True, None
    if isinstance(error, openai.APIConnectionError):
        return "connection error", True, None
    if isinstance(exc, IncompleteOutputException):
        return "invalid output", False, None  # cut at max_tokens: a re-ask would be cut too
    if isinstance(exc, InstructorRetryException) and exc.failed_attempts:
        return "invalid output", False, None
    return "model error", False, None


class LLMEngine:
    """Summaries written by a model, grounded in the article; the offline entry on failure."""

    name = "llm"

    def __init__(
        self,
        client: instructor.AsyncInstructor,
        *,
        model: str,
        timeout: float,
        max_retries: int,
        max_input_tokens: int,
        max_output_tokens: int,
        breaker: CircuitBreaker,
        http: openai.AsyncOpenAI | None = None,
    ) -> None:
        self.model = model
        self.prompt_version = PROMPT_VERSION
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_input_tokens = max_input_tokens
        self.max_output_tokens = max_output_tokens
        self.breaker = breaker
        self._client = client
        self._http = http

    def observe(self, event: str, handler: Callable[..., None]) -> None:
        """Call `handler` on each of instructor's `event`s of every request (`completion:kwargs`
        for each attempt, `completion:response`, `parse:error`): `secdigest bench llm`
        counts requests and re-asks this way, beside the engine's own per-call hooks."""
        self._client.on(event, handler)  # type: ignore[arg-type]

    async def aclose(self) -> None:
        """Close the HTTP client (the app's lifespan calls this on shutdown)."""
        if self._http is not None:
            await self._http.close()

    async def summarize(self, doc: SummaryInput) -> SummaryResult:
        """The model's digest entry for ``doc``, or the offline one marked degraded."""
        if not self.breaker.allow():
            LLM_CALLS.labels(outcome="breaker_open").inc()
            log.info("llm.skipped reason=circuit-open")
            return self._degraded(doc, "circuit open", _Usage(), {})
        usage = _Usage()
        verdict: bool | None = None
        try:
            evidence = Evidence.from_doc(doc)
            prompt = build_prompt(
                doc.text,
                evidence,
                title=doc.title,
                url=doc.url,
                target_lang=doc.target_lang,
                max_input_tokens=self.max_input_tokens,
                schema_tokens=schema_tokens(),
                has_indicator=lambda text: bool(find_iocs(text)),
            )
            try:
                entry = await self._ask(prompt.messages, usage)
            except ModelFailure as failure:
                verdict = False
                log.warning("llm.degraded reason=%s url=%s", failure.reason, doc.url)
                return self._degraded(doc, failure.reason, usage, {})
            verdict = True
            return self._result(doc, entry, evidence, usage, cut=prompt.cut)
        except Exception:
            # A bug of ours must not turn an article into a 500 either; it is logged loudly.
            log.exception("llm.failed reason=internal url=%s", doc.url)
            return self._degraded(doc, "internal error", usage, {})
        finally:
            if verdict is True:
                self.breaker.success()
            elif verdict is False:
                self.breaker.failure()
            else:
                self.breaker.release()

    async def _ask(self, messages: list[dict[str, str]], usage: _Usage) -> DigestEntry:
        """One valid entry within the deadline, or ModelFailure."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            async with asyncio.timeout_at(deadline):
                return await self._attempts(messages, usage, deadline)
        except TimeoutError:
            LLM_CALLS.labels(outcome="timeout").inc()
            raise ModelFailure("timeout") from None

    async def _attempts(
        self, messages: list[dict[str, str]], usage: _Usage, deadline: float
    ) -> DigestEntry:
        # LLM_CALLS counts requests by outcome: ok, invalid (answer failed validation),
        # retry (failed, tried again), error (failed, given up), timeout (deadline hit).
        hooks = instructor.hooks.Hooks()
        hooks.on("completion:response", usage.add)
        hooks.on("parse:error", lambda *_, **__: LLM_CALLS.labels(outcome="invalid").inc())
        loop = asyncio.get_running_loop()
        for attempt in range(self.max_retries + 1):
            try:
                entry, _ = await self._client.create_with_completion(
                    # No `context=`: instructor would render the messages as Jinja
                    # templates with it, and the article is untrusted text.
                    messages=messages,  # type: ignore[arg-type]
                    response_model=DigestEntry,
                    max_retries=VALIDATION_RETRIES,
                    hooks=hooks,
                    model=self.model,
                    max_tokens=self.max_output_tokens,
                )
            except (InstructorRetryException, IncompleteOutputException, openai.APIError) as exc:
                reason, retryable, wait = classify(exc)
                if not retryable or attempt == self.max_retries:
                    if isinstance(exc, IncompleteOutputException):
                        LLM_CALLS.labels(outcome="invalid").inc()  # no parse:error for it
                    elif reason != "invalid output":
                        LLM_CALLS.labels(outcome="error").inc()
                    raise ModelFailure(reason) from exc
                if wait is None:
                    # Jitter spreads the retries of concurrent articles; not security-relevant.
                    wait = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * random.uniform(0.5, 1)  # noqa: S311
                if loop.time() + wait >= deadline:
                    LLM_CALLS.labels(outcome="error").inc()
                    log.info("llm.retry skipped reason=%s wait=%.1f past-deadline", reason, wait)
                    raise ModelFailure(reason) from exc
                LLM_CALLS.labels(outcome="retry").inc()
                log.info("llm.retry reason=%s attempt=%d wait=%.2f", reason, attempt + 1, wait)
                await asyncio.sleep(wait)
            else:
                LLM_CALLS.labels(outcome="ok").inc()
                return entry
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _result(
        self,
        doc: SummaryInput,
        entry: DigestEntry,
        evidence: Evidence,
        usage: _Usage,
        *,
        cut: bool,
    ) -> SummaryResult:
        grounded = ground(entry, evidence)
        if not grounded.bullets:
            return self._degraded(doc, "ungrounded output", usage, grounded.dropped)
        title = grounded.title or (doc.title or "").strip() or summarize_offline(doc).title
        log.info(
            "llm.done model=%s bullets=%d dropped=%s tokens=%s cut=%s",
            self.model,
            len(grounded.bullets),
            sum(grounded.dropped.values()),
            usage.counts.get("total_tokens", 0),
            cut,
        )
        return SummaryResult(
            title=title,
            bullets=grounded.bullets,
            recommendations=grounded.recommendations,
            other=grounded.other,
            model_recommendations=grounded.model_recommendations,
            section=entry.section,
            engine=self.name,
            lang=doc.target_lang,
            model=self.model,
            usage=dict(usage.counts),
            cves=grounded.cves,
            attack_techniques=grounded.attack_techniques,
            dropped=grounded.dropped,
            prompt_version=self.prompt_version,
        )

    def _degraded(
        self, doc: SummaryInput, reason: str, usage: _Usage, dropped: dict[str, int]
    ) -> SummaryResult:
        """The offline engine's entry, marked degraded with the reason and tokens spent."""
        return replace(
            summarize_offline(doc),
            degraded=True,
            degraded_reason=reason,
            usage=dict(usage.counts),
            dropped=dropped,
        )


def build_llm_engine(settings: Settings) -> LLMEngine:
    """The LLM engine for the configured OpenAI-compatible endpoint, model and mode."""
    http = openai.AsyncOpenAI(
        base_url=settings.llm_base_url,
        # Local servers (Ollama, vLLM, llama.cpp) take any key; the client insists on one.
        api_key=settings.effective_llm_api_key or "not-needed",
        timeout=settings.llm_timeout,
        max_retries=0,  # retries are ours: bounded by the article's deadline
    )
    client = instructor.from_openai(http, mode=MODES[settings.llm_mode])
    return LLMEngine(
        client,
        model=settings.llm_model,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        max_input_tokens=settings.llm_max_input_tokens,
        max_output_tokens=settings.llm_max_output_tokens,
        breaker=CircuitBreaker(settings.llm_breaker_failures, settings.llm_breaker_cooldown),
        http=http,
    )
