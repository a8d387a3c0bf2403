"""POST /summarize: a URL (or HTML, or text) in, the article JSON or Markdown out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from app.deps import MarkdownWantedDep, SessionDep, SettingsDep, ToolsDep
from app.errors import PROBLEM_JSON, SecdigestError
from app.schemas.summarize import ArticleRead, SummarizeFailure, SummarizeRequest, article_read
from app.services import pipeline
from app.services.markdown import labels_for, render_item
from app.services.reports import item_to_digest, today

router = APIRouter(tags=["summarize"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/markdown": {}}},
    400: {"description": "fetch-blocked", **_PROBLEM},
    422: {"description": "invalid-request, not-an-article", **_PROBLEM},
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
    session: SessionDep,
    tools: ToolsDep,
    settings: SettingsDep,
    markdown: MarkdownWantedDep,
) -> ArticleRead | list[ArticleRead | SummarizeFailure] | PlainTextResponse:
    """Summarize an article, store it and place it in the report of its day."""
    lang = body.lang or settings.lang
    placement = pipeline.Placement(
        day=body.date or today(settings.tz), lang=lang, section=body.section
    )
    if body.urls is not None:
        outcomes = await pipeline.summarize_urls(
            session, tools, urls=body.urls, placement=placement, force=body.force
        )
        return [
            SummarizeFailure(url=o.url, problem=_problem(o.error))
            if isinstance(o, pipeline.UrlFailure)
            else article_read(o)
            for o in outcomes
        ]
    if body.html is not None:
        result = await pipeline.summarize_html(
            session, tools, html=body.html, url=body.url, placement=placement
        )
    elif body.text is not None:
        result = await pipeline.summarize_text(
            session, tools, text=body.text, title=body.title, url=body.url, placement=placement
        )
    else:
        assert body.url is not None
        result = await pipeline.summarize_url(
            session, tools, url=body.url, placement=placement, force=body.force
        )
    if markdown:
        labels = labels_for(lang, settings.model_recommendations_label)
        return PlainTextResponse(
            render_item(item_to_digest(result.item, full=True), labels), media_type="text/markdown"
        )
    return article_read(result)


def _problem(error: SecdigestError) -> dict[str, object]:
    return {
        "type": f"/problems/{error.slug}",
        "title": error.title,
        "status": error.status_code,
        "detail": error.detail,
    }
