"""Each article through the service's own summary engine, a few at a time, cached on disk.

The engine is `build_engine(settings)`, what the service builds: the prompt, instructor,
the transport retries, grounding and the offline fallback are the ones a digest gets. The
bench only watches: the time of each `summarize` call, the result (bullets, `dropped`,
`degraded_reason`, `usage`), and, through instructor's client hooks, the requests an
article took and the answers that failed validation (each re-asked once by the engine).

A finished article is written to ``CACHE/<model>/<prompt version>-<lang>/<set>/<name>.json``
(with the text's hash): a rerun reads it instead of calling the model. Failures that say
nothing about the model (rate limits, 5xx, connection errors, the breaker, our own bugs)
are not cached, so a rerun tries those articles again.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.services.iocs import find_iocs
from app.services.llmbench.data import Article
from app.services.summarize.base import SummaryEngine, SummaryInput
from app.services.summarize.engines import build_engine, close_engine
from app.services.summarize.llm import LLMEngine
from app.settings import Settings

# What the model did, kept in the cache; anything else is tried again on the next run.
CACHED_REASONS = frozenset({None, "timeout", "invalid output", "ungrounded output"})
CACHE_FORMAT = 2


@dataclass(slots=True)
class Calls:
    """Requests one article made, answers that failed validation, and re-asks after them."""

    requests: int = 0
    schema_failures: int = 0
    reasks: int = 0
    answers: list[str] = field(default_factory=list)  # the model's raw answers, in order
    _after_failure: bool = False

    def request(self, *_: Any, **__: Any) -> None:
        self.requests += 1
        if self._after_failure:
            self.reasks += 1
            self._after_failure = False

    def parse_error(self, *_: Any, **__: Any) -> None:
        self.schema_failures += 1
        self._after_failure = True


_CALLS: contextvars.ContextVar[Calls | None] = contextvars.ContextVar(
    "llmbench_calls", default=None
)


def _on_request(*args: Any, **kwargs: Any) -> None:
    calls = _CALLS.get()
    if calls is not None:
        calls.request()


def answer_text(response: Any) -> str:
    """What the model wrote in a chat completion: its content and tool call arguments."""
    parts: list[str] = []
    for choice in getattr(response, "choices", None) or []:
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        if isinstance(content, str):
            parts.append(content)
        for call in getattr(message, "tool_calls", None) or []:
            arguments = getattr(getattr(call, "function", None), "arguments", None)
            if isinstance(arguments, str):
                parts.append(arguments)
    return "\n".join(parts)


def _on_response(response: Any, *args: Any, **kwargs: Any) -> None:
    calls = _CALLS.get()
    if calls is not None:
        calls.answers.append(answer_text(response))


def _on_parse_error(*args: Any, **kwargs: Any) -> None:
    calls = _CALLS.get()
    if calls is not None:
        calls.parse_error()


def watch(engine: SummaryEngine) -> bool:
    """Count each article's requests, answers and invalid answers through the engine's
    instructor hooks (beside its own per-call ones); False for an engine without a model."""
    if not isinstance(engine, LLMEngine):
        return False
    engine.observe("completion:kwargs", _on_request)
    engine.observe("completion:response", _on_response)
    engine.observe("parse:error", _on_parse_error)
    return True


@dataclass(slots=True)
class Outcome:
    """What the engine gave for one article, and what it cost."""

    text_hash: str
    title: str
    bullets: list[str]
    recommendations: list[str]
    other: list[str]
    model_recommendations: list[str]
    engine: str
    degraded: bool
    degraded_reason: str | None
    dropped: dict[str, int]
    usage: dict[str, int]
    seconds: float
    requests: int | None
    schema_failures: int | None
    reasks: int | None
    section: str
    # The model's raw answers (before validation and grounding): what the injection set
    # judges the model on; empty when the engine has no client to watch.
    answers: list[str] = field(default_factory=list)
    cached: bool = field(default=False)

    @property
    def texts(self) -> list[str]:
        """Every text of the entry a reader sees: title, bullets and the three lists."""
        return [
            self.title,
            *self.bullets,
            *self.recommendations,
            *self.other,
            *self.model_recommendations,
        ]

    @property
    def cacheable(self) -> bool:
        """Whether the outcome says something about the model (not a transient failure)."""
        return self.degraded_reason in CACHED_REASONS


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("_") or "model"


@dataclass(frozen=True, slots=True)
class Cache:
    """One JSON file per (article, model, prompt version, language)."""

    root: Path
    model: str
    prompt_version: str
    lang: str

    def path(self, article: Article) -> Path:
        folder = f"{_slug(self.prompt_version)}-{self.lang}"
        return self.root / _slug(self.model) / folder / article.set / f"{article.name}.json"

    def read(self, article: Article) -> Outcome | None:
        try:
            data = json.loads(self.path(article).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("format") != CACHE_FORMAT or data.get("text_hash") != article.text_hash:
            return None
        data.pop("format")
        data["cached"] = True
        try:
            return Outcome(**data)
        except TypeError:
            return None

    def write(self, article: Article, outcome: Outcome) -> None:
        path = self.path(article)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(outcome)
        data.pop("cached")
        data["format"] = CACHE_FORMAT
        partial = path.with_suffix(".json.part")
        partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(path)  # a run killed mid-write leaves no half file


@dataclass(slots=True)
class Run:
    """The outcomes in article order, and the wall time of the articles called this run."""

    model: str
    prompt_version: str
    outcomes: list[Outcome]
    seconds: float
    counted_calls: bool
    summarized: int  # texts sent to the engine this run (not from the cache)


def summary_input(article: Article, lang: str) -> SummaryInput:
    """What the pipeline hands an engine for this article: its text, title, language and the
    indicators the regex engine found in it."""
    return SummaryInput(
        text=article.text,
        title=article.title,
        url=article.url,
        source_lang=article.source_lang,
        target_lang=lang,
        iocs=tuple(find_iocs(article.text)),
    )


async def _summarize(
    engine: SummaryEngine, article: Article, lang: str, gate: asyncio.Semaphore, counted: bool
) -> Outcome:
    async with gate:
        calls = Calls()
        _CALLS.set(calls)  # this task's own context: concurrent articles do not mix
        doc = summary_input(article, lang)
        started = time.perf_counter()
        result = await engine.summarize(doc)
        seconds = time.perf_counter() - started
    return Outcome(
        text_hash=article.text_hash,
        title=result.title,
        bullets=list(result.bullets),
        recommendations=list(result.recommendations),
        other=list(result.other),
        model_recommendations=list(result.model_recommendations),
        engine=result.engine,
        degraded=result.degraded,
        degraded_reason=result.degraded_reason,
        dropped=dict(result.dropped),
        usage=dict(result.usage),
        seconds=round(seconds, 4),
        requests=calls.requests if counted else None,
        schema_failures=calls.schema_failures if counted else None,
        reasks=calls.reasks if counted else None,
        section=result.section.value,
        answers=list(calls.answers),
    )


async def run(
    settings: Settings,
    articles: list[Article],
    *,
    lang: str,
    concurrency: int,
    cache_dir: Path,
) -> Run:
    """Summarize every article not in the cache, ``concurrency`` at a time; one text is
    summarized once even when two sets share it."""
    engine = build_engine(settings)
    try:
        model = engine.model or settings.llm_model
        prompt_version = engine.prompt_version or "none"
        cache = Cache(cache_dir, model, prompt_version, lang)
        counted = watch(engine)
        gate = asyncio.Semaphore(concurrency)
        by_text: dict[str, asyncio.Task[Outcome]] = {}
        slots: list[Outcome | asyncio.Task[Outcome]] = []
        started = time.perf_counter()
        for article in articles:
            cached = cache.read(article)
            if cached is not None:
                slots.append(cached)
                continue
            task = by_text.get(article.text_hash)
            if task is None:
                task = asyncio.create_task(_summarize(engine, article, lang, gate, counted))
                by_text[article.text_hash] = task
            slots.append(task)
        if by_text:
            await asyncio.gather(*by_text.values())
        seconds = time.perf_counter() - started
        outcomes: list[Outcome] = []
        for article, slot in zip(articles, slots, strict=True):
            if isinstance(slot, asyncio.Task):
                outcome = slot.result()
                if outcome.cacheable:
                    cache.write(article, outcome)
            else:
                outcome = slot
            outcomes.append(outcome)
        return Run(
            model, prompt_version, outcomes, seconds if by_text else 0.0, counted, len(by_text)
        )
    finally:
        await close_engine(engine)
