"""POST /summarize: a URL (or HTML, or text) in, the article JSON or Markdown out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from app.deps import MarkdownWantedDep, SessionDep, SettingsDep, ToolsDep
from app.errors import PROBLEM_JSON, InvalidRequest
from app.schemas.jobs import JobRead
from app.schemas.summarize import (
    ArticleRead,
    SummarizeFailure,
    SummarizeRequest,
    submission_of,
    summarize_response,
)
from app.services import jobs, pipeline
from app.services.markdown import labels_for, render_item
from app.services.reports import item_to_document, today
from app.tasks import SUMMARIZE, enqueue, summarize_payload

router = APIRouter(tags=["summarize"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/markdown": {}}},
    202: {"description": "Accepted as a job (Prefer: respond-async); see Location."},
    400: {"description": "fetch-blocked", **_PROBLEM},
    422: {
        "description": "invalid-request (also `store: false` with `?async=true`), "
        "not-an-article (also a feed: subscribe to it with POST /feeds)",
        **_PROBLEM,
    },
    502: {"description": "fetch-failed, fetch-too-large", **_PROBLEM},
    504: {"description": "fetch-timeout", **_PROBLEM},
}


@router.post(
    "/summarize",
    response_model=ArticleRead | list[ArticleRead | SummarizeFailure],
    responses=_RESPONSES,
)
async def summarize(
    body: SummarizeRequest,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    tools: ToolsDep,
    settings: SettingsDep,
    markdown: MarkdownWantedDep,
    run_async: Annotated[
        bool,
        Query(alias="async", description="Answer 202 with a job (as Prefer: respond-async)."),
    ] = False,
) -> ArticleRead | list[ArticleRead | SummarizeFailure] | PlainTextResponse | JSONResponse:
    """Summarize an article, store it and place it in the report of its day.

    With `Prefer: respond-async` (or `?async=true`) the answer is 202 with
    `Location: /jobs/{id}`; the job's result is what this call would have answered.
    With `"store": false` nothing is stored and the answer is always direct (a job's
    result would be stored): `?async=true` is then a 422, `Prefer` is not applied.
    """
    if run_async and not body.store:
        raise InvalidRequest(
            "store: false answers in the response only, never as a job: leave out async",
            field="store",
        )
    if body.store and (run_async or "respond-async" in request.headers.get("prefer", "").lower()):
        payload = summarize_payload(body, lang=settings.lang, day=today(settings.tz))
        job = await jobs.create_job(session, kind=SUMMARIZE, payload=payload)
        # Enqueued after the response: the session has committed the job row by then.
        background.add_task(enqueue, job.id)
        return JSONResponse(
            JobRead.model_validate(job).model_dump(mode="json"),
            status_code=202,
            headers={"Location": job.location, "Preference-Applied": "respond-async"},
        )
    submission = submission_of(body, default_lang=settings.lang, today=today(settings.tz))
    outcome = await pipeline.run_submission(session, tools, submission)
    if markdown and not isinstance(outcome, list):
        labels = labels_for(submission.placement.lang, settings.model_recommendations_label)
        block = render_item(item_to_document(outcome.item, full=True), labels)
        return PlainTextResponse(block, media_type="text/markdown")
    return summarize_response(outcome)
