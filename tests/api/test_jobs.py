"""Asynchronous summaries: 202 with a job, polling with ?wait, resuming after a restart."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.db import session_scope
from app.models import Job
from app.services import jobs
from app.settings import Settings
from tests.support.site import FixtureSite

ENGLISH = "/news/english-news.html"


async def test_prefer_respond_async_gives_202_and_the_job_gives_the_article(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    accepted = await client.post(
        "/summarize", json={"url": site.url(ENGLISH)}, headers={"Prefer": "respond-async"}
    )

    assert accepted.status_code == 202
    assert accepted.headers["preference-applied"] == "respond-async"
    location = accepted.headers["location"]
    assert location == f"/jobs/{accepted.json()['id']}"
    assert accepted.json()["status"] in ("pending", "running", "succeeded")
    done = (await client.get(f"{location}?wait=20")).json()
    assert done["status"] == "succeeded"
    assert done["result"]["original_title"].startswith("Ember Lynx")
    assert ("ipv4", "45.137.21.9") in {(i["type"], i["value"]) for i in done["result"]["iocs"]}
    report = (await client.get(f"/reports/{done['result']['report']['date']}")).json()
    assert report["item_count"] == 1


async def test_async_query_parameter_and_a_failing_url_give_a_failed_job(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    accepted = await client.post("/summarize?async=true", json={"url": site.url("/missing")})

    done = (await client.get(f"{accepted.headers['location']}?wait=20")).json()

    assert accepted.status_code == 202
    assert done["status"] == "failed"
    assert done["result"] is None
    assert done["problem"]["type"] == "/problems/fetch-failed"
    assert done["problem"]["status"] == 502


async def test_unknown_job_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/jobs/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


async def test_wait_returns_the_current_state_when_the_wait_is_over(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with session_scope(app.state.secdigest.sessionmaker) as session:
        job = await jobs.create_job(session, kind="summarize", payload={"request": {}})
        await jobs.claim_job(session, job.id)  # held by some other worker, never finished

    response = await client.get(f"/jobs/{job.id}?wait=0.3")

    assert response.json()["status"] == "running"


async def test_jobs_left_pending_or_running_resume_when_the_service_starts(
    settings: Settings, site: FixtureSite
) -> None:
    from app.main import create_app

    first = create_app(settings)
    async with first.router.lifespan_context(first):
        sessionmaker = first.state.secdigest.sessionmaker
        async with session_scope(sessionmaker) as session:
            await session.execute(Job.__table__.delete())
            pending = await jobs.create_job(
                session, kind="summarize", payload={"request": {"url": site.url(ENGLISH)}}
            )
            interrupted = await jobs.create_job(
                session, kind="summarize", payload={"request": {"url": site.url("/jp/sjis.html")}}
            )
            await jobs.claim_job(session, interrupted.id)  # its worker was killed mid-job

    second = create_app(settings)  # the restart
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            states = [
                (await client.get(f"/jobs/{job_id}?wait=20")).json()
                for job_id in (pending.id, interrupted.id)
            ]

    assert [s["status"] for s in states] == ["succeeded", "succeeded"]
    assert states[1]["attempts"] == 2
    assert states[1]["result"]["lang"] == "ja"
