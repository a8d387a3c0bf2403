"""Every answer has a request id that the logs carry; oversized bodies are refused early."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI


async def test_each_answer_has_a_request_id_and_a_client_one_is_kept(
    client: httpx.AsyncClient,
) -> None:
    generated = await client.get("/healthz")
    kept = await client.get("/healthz", headers={"X-Request-ID": "soar-run-42"})
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})

    assert len(generated.headers["x-request-id"]) == 32
    assert kept.headers["x-request-id"] == "soar-run-42"
    assert replaced.headers["x-request-id"] != "bad id\nwith newline"


async def test_log_lines_carry_the_request_id_and_never_the_article_body(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    from app.logs import RequestIdFilter

    secret_sentence = "The confidential loader calls 45.137.21[.]9 every hour."
    caplog.set_level(logging.INFO)
    for handler in (caplog.handler,):
        handler.addFilter(RequestIdFilter())

    await client.post(
        "/summarize", json={"text": secret_sentence * 3}, headers={"X-Request-ID": "trace-7"}
    )

    ours = [r for r in caplog.records if r.name.startswith("secdigest")]
    assert any(r.getMessage().startswith("http.request method=POST") for r in ours)
    assert all(r.request_id == "trace-7" for r in ours if r.name != "secdigest.jobs")
    assert not any("confidential" in r.getMessage() for r in caplog.records)


async def test_a_body_over_the_limit_is_refused_from_its_declared_length(
    client: httpx.AsyncClient,
) -> None:
    huge = b'{"text": "' + b"a" * (13 * 1024 * 1024) + b'"}'

    response = await client.post(
        "/summarize", content=huge, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/payload-too-large"
    assert "x-request-id" in response.headers


async def test_a_chunked_body_over_the_limit_is_stopped_while_it_streams(
    client: httpx.AsyncClient,
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"text": "'
        for _ in range(14):
            yield b"a" * (1024 * 1024)
        yield b'"}'

    response = await client.post(
        "/summarize", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


async def test_an_unexpected_error_is_a_problem_500_that_carries_the_request_id(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def fails() -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    app.add_api_route("/test-only/fails", fails)
    caplog.set_level(logging.ERROR, logger="secdigest.errors")

    response = await client.get("/test-only/fails", headers={"X-Request-ID": "soar-run-43"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "soar-run-43"
    body = response.json()
    assert (body["type"], body["request_id"]) == ("/problems/internal-error", "soar-run-43")
    assert "SQLite" not in response.text
    assert any(r.exc_info and r.exc_info[0] is OverflowError for r in caplog.records)
    # The service goes on answering on the same client.
    assert (await client.get("/healthz")).status_code == 200
