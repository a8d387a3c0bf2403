"""Publishing a day, and the webhooks that hear of it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.deps import SessionDep, SettingsDep, StateDep
from app.errors import PROBLEM_JSON
from app.schemas.delivery import (
    DeliveryList,
    PublicationRead,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookRead,
    WebhookTestSent,
    delivery_read,
    publication_read,
)
from app.schemas.ids import RowId
from app.services import reports
from app.services.delivery import publish as publishing
from app.services.delivery import webhooks

router = APIRouter(tags=["delivery"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "not-found", **_PROBLEM}}


@router.post(
    "/reports/{day}/publish",
    status_code=201,
    responses={
        200: {"description": "this revision was published already: that publication"},
        **_NOT_FOUND,
    },
)
async def publish_report(
    day: str, response: Response, session: SessionDep, settings: SettingsDep
) -> PublicationRead:
    """Publish a day's report (`YYYY-MM-DD`, `today`, `latest`): a numbered publication,
    `report.published` to the webhooks, the e-mail. Publishing an unchanged day again
    answers its publication with 200 and sends nothing."""
    resolved = await reports.resolve_day(session, day, settings.tz)
    published = await publishing.publish(session, settings, resolved, source="api")
    if not published.created:
        response.status_code = 200
    return publication_read(published)


@router.post(
    "/webhooks",
    status_code=201,
    responses={400: {"description": "fetch-blocked: the URL is not allowed", **_PROBLEM}},
)
async def create_webhook(
    body: WebhookCreate, response: Response, session: SessionDep, state: StateDep
) -> WebhookCreated:
    """A new webhook; the answer carries its signing secret, shown this once."""
    hook = await webhooks.create_webhook(
        session, state.fetch_policy, url=body.url, events=body.events, format=body.format
    )
    response.headers["Location"] = f"/webhooks/{hook.id}"
    return WebhookCreated.model_validate(hook)


@router.get("/webhooks")
async def list_webhooks(session: SessionDep) -> WebhookList:
    """Every webhook, oldest first (no secrets)."""
    hooks = await webhooks.list_webhooks(session)
    return WebhookList(webhooks=[WebhookRead.model_validate(hook) for hook in hooks])


@router.get("/webhooks/{webhook_id}", responses=_NOT_FOUND)
async def get_webhook(webhook_id: RowId, session: SessionDep) -> WebhookRead:
    """One webhook, and whether (and why) it is disabled."""
    return WebhookRead.model_validate(await webhooks.get_webhook(session, webhook_id))


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, response_class=Response, responses=_NOT_FOUND
)
async def delete_webhook(webhook_id: RowId, session: SessionDep) -> None:
    """Remove a webhook; what it was still owed is dropped."""
    await webhooks.delete_webhook(session, webhook_id)


@router.post("/webhooks/{webhook_id}/test", status_code=202, responses=_NOT_FOUND)
async def test_webhook(webhook_id: RowId, session: SessionDep) -> WebhookTestSent:
    """Send a `webhook.test` message to this webhook (signed like any other)."""
    return WebhookTestSent(delivery_id=await webhooks.owe_test(session, webhook_id))


@router.get("/webhooks/{webhook_id}/deliveries", responses=_NOT_FOUND)
async def list_deliveries(webhook_id: RowId, session: SessionDep) -> DeliveryList:
    """The webhook's deliveries, newest first, with every attempt and the next try."""
    views = await webhooks.deliveries_of(session, webhook_id)
    return DeliveryList(deliveries=[delivery_read(view) for view in views])
