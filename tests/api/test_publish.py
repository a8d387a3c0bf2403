"""Publishing a day: numbered publications, the schedule with a fake clock (and two
schedulers racing), and the e-mail received by a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import session_scope
from app.models import Publication, ScheduledPublish
from app.services.delivery.publish import publish_due
from app.settings import Settings
from app.state import AppState
from tests.support.digests import import_day
from tests.support.smtp import Inbox, smtp_server

YESTERDAY, TODAY = "2024-12-05", "2024-12-06"
# 2024-12-06 in Tokyo (UTC+9): 07:00 and 08:31 local.
BEFORE = datetime(2024, 12, 5, 22, 0, tzinfo=UTC)
AFTER = datetime(2024, 12, 5, 23, 31, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"publish_at": "08:30", "publish_day": "yesterday"})


async def scheduled(app: FastAPI, now: datetime) -> Any:
    state: AppState = app.state.secdigest
    async with session_scope(state.sessionmaker) as session:
        return await publish_due(session, state.settings, now=now)


async def publications(app: FastAPI) -> list[tuple[date, int, str]]:
    state: AppState = app.state.secdigest
    async with state.sessionmaker() as session:
        rows = await session.execute(
            select(Publication.day, Publication.number, Publication.source).order_by(Publication.id)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_an_unknown_day_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/reports/{TODAY}/publish")

    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


async def test_the_schedule_publishes_yesterday_once_its_time_has_come(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await import_day(client, YESTERDAY, ("Story", []))

    assert await scheduled(app, BEFORE) is None
    published = await scheduled(app, AFTER)
    assert await scheduled(app, AFTER.replace(minute=59)) is None  # once that day

    assert published.created
    assert await publications(app) == [(date(2024, 12, 5), 1, "schedule")]


async def test_a_scheduled_day_without_a_report_publishes_nothing_and_says_so(
    app: FastAPI,
) -> None:
    assert await scheduled(app, AFTER) is None

    state: AppState = app.state.secdigest
    async with state.sessionmaker() as session:
        claim = await session.get(ScheduledPublish, date(2024, 12, 6))
    assert claim is not None
    assert claim.outcome == "no-report"
    assert await publications(app) == []


async def test_today_can_be_the_day_published(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    state: AppState = app.state.secdigest
    await import_day(client, TODAY, ("Story", []))
    evening = settings.model_copy(update={"publish_day": "today"})

    async with session_scope(state.sessionmaker) as session:
        published = await publish_due(session, evening, now=AFTER)

    assert published is not None
    assert published.publication.day == date(2024, 12, 6)


async def test_two_schedulers_at_the_same_moment_publish_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await import_day(client, YESTERDAY, ("Story", []))

    results = await asyncio.gather(*(scheduled(app, AFTER) for _ in range(4)))

    assert sum(1 for result in results if result is not None) == 1
    assert await publications(app) == [(date(2024, 12, 5), 1, "schedule")]
    state: AppState = app.state.secdigest
    async with state.sessionmaker() as session:
        # (The app's own schedule runs on the real clock: its claims are of another date.)
        claims = select(func.count()).where(ScheduledPublish.run_date == date(2024, 12, 6))
        assert await session.scalar(claims) == 1


async def test_a_publish_mails_the_markdown_exactly_and_the_page(
    app: FastAPI, client: httpx.AsyncClient, sample_markdown: str, settings: Settings
) -> None:
    state: AppState = app.state.secdigest
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        state.settings = settings.model_copy(
            update={"smtp_url": f"smtp://127.0.0.1:{port}", "mail_to": ["soc@example.org"]}
        )
        put = await client.put(
            f"/reports/{TODAY}",
            content=sample_markdown.encode(),
            headers={"Content-Type": "text/markdown"},
        )
        assert put.status_code == 200
        published = await client.post(f"/reports/{TODAY}/publish")
        assert published.json()["deliveries"] == 1
        for _ in range(200):
            if inbox.envelopes:
                break
            await asyncio.sleep(0.05)

    message = inbox.received()
    markdown = (await client.get(f"/reports/{TODAY}", params={"format": "md"})).text
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content() == markdown
    assert "日々のニュース要約" in html.get_content()
    assert message["Subject"] == f"Daily Security Info {TODAY}"
    assert message["Message-ID"].startswith(f"<secdigest.{TODAY}.r1@")
    assert inbox.envelopes[0].rcpt_tos == ["soc@example.org"]
