"""A model that fails: retries, Retry-After, re-asks, deadlines, the breaker; never a raise."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import REGISTRY

from app.services.summarize.llm import LLMEngine, parse_retry_after
from tests.support.model_server import ModelServer, hang, invalid_json, ok, status, truncated
from tests.unit.summarize.test_llm import doc

MARGIN = 2.0  # seconds of slack on a deadline for a busy CI machine


def calls(outcome: str) -> float:
    return REGISTRY.get_sample_value("secdigest_llm_calls_total", {"outcome": outcome}) or 0.0


async def test_a_500_is_retried_and_the_retry_succeeds(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.queue(status(500), ok())
    retries = calls("retry")

    result = await make_engine().summarize(doc())

    assert not result.degraded
    assert model.calls == 2
    assert calls("retry") - retries == 1


async def test_a_429_waits_for_retry_after_within_the_deadline(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.queue(status(429, retry_after=1), ok())
    started = time.monotonic()

    result = await make_engine(llm_timeout=5).summarize(doc())

    assert not result.degraded
    assert model.calls == 2
    assert time.monotonic() - started >= 0.9  # the server's 1 s was honoured


async def test_a_retry_after_past_the_deadline_degrades_without_waiting(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.queue(status(429, retry_after=120))
    started = time.monotonic()

    result = await make_engine(llm_timeout=2).summarize(doc())

    assert result.degraded
    assert result.degraded_reason == "rate-limited"
    assert result.engine == "offline"
    assert result.bullets  # the offline engine's entry
    assert model.calls == 1
    assert time.monotonic() - started < 2 + MARGIN


async def test_server_errors_until_retries_run_out_degrade_with_the_status(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.default = status(503)

    result = await make_engine(llm_max_retries=1).summarize(doc())

    assert result.degraded
    assert result.degraded_reason == "model error 503"
    assert model.calls == 2


async def test_a_client_error_is_not_retried(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.queue(status(401))

    result = await make_engine().summarize(doc())

    assert result.degraded_reason == "model error 401"
    assert model.calls == 1


async def test_invalid_json_is_re_asked_once(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.queue(invalid_json(), ok(usage=(100, 50)))

    result = await make_engine().summarize(doc())

    assert not result.degraded
    assert model.calls == 2
    reask = model.requests[1]["messages"]
    assert reask[-1]["role"] == "tool"  # instructor's re-ask carries the error
    assert "Validation Error" in reask[-1]["content"]
    assert result.usage == {
        "prompt_tokens": 220,
        "completion_tokens": 130,
        "total_tokens": 350,
    }  # both answers


async def test_invalid_output_twice_degrades(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.queue(invalid_json(), ok({"title": "x", "bullets": ["only one"], "section": "news"}))

    result = await make_engine(llm_mode="json").summarize(doc())

    assert result.degraded
    assert result.degraded_reason == "invalid output"
    assert model.calls == 2
    assert result.usage["total_tokens"] == 400  # the tokens were spent all the same


async def test_an_answer_cut_at_max_tokens_is_not_re_asked(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.queue(truncated())

    result = await make_engine().summarize(doc())

    assert result.degraded_reason == "invalid output"
    assert model.calls == 1  # the same limit would cut a re-ask too


async def test_a_hang_degrades_at_the_deadline(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    model.queue(hang(30))
    timeouts = calls("timeout")
    started = time.monotonic()

    result = await make_engine(llm_timeout=1).summarize(doc())

    assert result.degraded
    assert result.degraded_reason == "timeout"
    assert time.monotonic() - started < 1 + MARGIN
    assert calls("timeout") - timeouts == 1


async def test_an_unreachable_endpoint_degrades(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        engine = make_engine(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_max_retries=1)
        result = await engine.summarize(doc())

    assert result.degraded
    assert result.degraded_reason == "connection error"


async def test_the_breaker_opens_then_lets_one_trial_through(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    engine = make_engine(llm_max_retries=0, llm_breaker_failures=2, llm_breaker_cooldown=0.5)
    model.default = status(500)

    first = await engine.summarize(doc())
    second = await engine.summarize(doc())
    third = await engine.summarize(doc())

    assert [r.degraded_reason for r in (first, second, third)] == [
        "model error 500",
        "model error 500",
        "circuit open",
    ]
    assert model.calls == 2  # the open breaker made no call
    await asyncio.sleep(0.6)
    model.default = ok()
    trial = await engine.summarize(doc())
    assert not trial.degraded
    assert engine.breaker.state == "closed"
    assert model.calls == 3


async def test_a_failed_trial_opens_the_breaker_again(
    model: ModelServer, make_engine: Callable[..., LLMEngine]
) -> None:
    engine = make_engine(llm_max_retries=0, llm_breaker_failures=1, llm_breaker_cooldown=0.3)
    model.default = status(502)

    await engine.summarize(doc())
    await asyncio.sleep(0.4)
    trial = await engine.summarize(doc())
    after = await engine.summarize(doc())

    assert trial.degraded_reason == "model error 502"
    assert after.degraded_reason == "circuit open"
    assert model.calls == 2


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Mon, 05 Jan 2026 12:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Mon, 05 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
