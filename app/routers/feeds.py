"""Feed subscriptions: add, list, remove, and pull now."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.deps import ReadSessionDep, SessionDep, SettingsDep, StateDep, ToolsDep
from app.errors import PROBLEM_JSON
from app.schemas.feeds import (
    FeedCreate,
    FeedListRead,
    FeedPullRequest,
    FeedRead,
    PullsStarted,
    PullStarted,
    PullTallyRead,
    pull_tally_read,
)
from app.schemas.ids import RowId
from app.services import feeds
from app.tasks import pull_feeds_now

router = APIRouter(prefix="/feeds", tags=["feeds"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "not-found", **_PROBLEM}}


@router.post(
    "",
    status_code=201,
    responses={
        400: {"description": "fetch-blocked (scheme, credentials)", **_PROBLEM},
        409: {"description": "conflict: already subscribed (`feed_id`)", **_PROBLEM},
        422: {"description": "invalid-request, not-a-feed (neither RSS nor Atom)", **_PROBLEM},
        502: {"description": "fetch-failed, fetch-too-large (the check)", **_PROBLEM},
        504: {"description": "fetch-timeout (the check)", **_PROBLEM},
    },
)
async def create_feed(
    body: FeedCreate,
    session: SessionDep,
    settings: SettingsDep,
    tools: ToolsDep,
    response: Response,
    check: Annotated[
        bool,
        Query(description="Read the feed once first (false: subscribe without a fetch)."),
    ] = True,
) -> FeedRead:
    """Subscribe to an RSS or Atom feed (read once first); it is due for a pull at once."""
    feed = await feeds.add_feed(
        session, body, default_interval=settings.feed_interval, tools=tools if check else None
    )
    response.headers["Location"] = f"/feeds/{feed.id}"
    return FeedRead.model_validate(feed)


@router.get("")
async def list_feeds(session: ReadSessionDep) -> FeedListRead:
    """Every subscription with its last pull, last error and counts."""
    return FeedListRead(
        feeds=[FeedRead.model_validate(feed) for feed in await feeds.list_feeds(session)]
    )


@router.get("/{feed_id}", responses=_NOT_FOUND)
async def get_feed(feed_id: RowId, session: ReadSessionDep) -> FeedRead:
    """One subscription."""
    return FeedRead.model_validate(await feeds.get_feed(session, feed_id))


@router.delete("/{feed_id}", status_code=204, response_class=Response, responses=_NOT_FOUND)
async def delete_feed(feed_id: RowId, session: SessionDep) -> None:
    """Unsubscribe; articles already pulled stay in their reports."""
    await feeds.remove_feed(session, feed_id)


@router.post(
    "/pull",
    status_code=202,
    responses={
        200: {"description": "With `?wait=N`: what the pull came to.", "model": PullTallyRead},
        404: {"description": "not-found (an id in `ids`)", **_PROBLEM},
    },
)
async def pull_feeds(
    state: StateDep,
    response: Response,
    body: FeedPullRequest | None = None,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=300,
            description="Seconds to wait for every item to be done (then 200 with the "
            "counts); past them, or with 0, 202 with the jobs, which go on.",
        ),
    ] = 0,
) -> PullsStarted | PullTallyRead:
    """Pull the due feeds now (or those in `ids`; `force` ignores their interval).

    Each feed's pull is a job (202, one per feed); it queues a summarize job per new item,
    placed in today's report. Items already stored or queued are duplicates; an unchanged
    feed (304) costs one request.
    """
    request = body or FeedPullRequest()
    pulls = await pull_feeds_now(state, ids=request.ids, force=request.force)
    if wait:
        try:
            async with asyncio.timeout(wait):
                tally = await feeds.follow_pulls(state.sessionmaker, [job for _, job in pulls])
        except TimeoutError:
            pass  # the jobs go on; the caller polls them
        else:
            response.status_code = 200
            return pull_tally_read(tally)
    return PullsStarted(
        pulls=[
            PullStarted(feed_id=feed_id, job_id=job_id, location=f"/jobs/{job_id}")
            for feed_id, job_id in pulls
        ]
    )
