"""Daily reports: list, read (JSON or Markdown), import from Markdown."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from app.deps import MarkdownWantedDep, SessionDep, SettingsDep, read_body_capped
from app.errors import PROBLEM_JSON, InvalidRequest, UnsupportedMediaType
from app.schemas.reports import ReportListRead, ReportRead, ReportSummaryRead, report_read
from app.services import reports
from app.services.markdown import labels_for, parse_digest, render_digest

router = APIRouter(prefix="/reports", tags=["reports"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_DAY_DOC = "`YYYY-MM-DD`, `today` or `latest`"
LangQuery = Annotated[
    Literal["ja", "en"] | None, Query(description="Language of headings and labels.")
]


@router.get("")
async def list_reports(session: SessionDep) -> ReportListRead:
    """Days that have a report, newest first, with their item counts."""
    rows = await reports.list_reports(session)
    return ReportListRead(
        reports=[ReportSummaryRead(date=day, item_count=count) for day, count in rows]
    )


@router.get(
    "/{day}",
    response_model=ReportRead,
    responses={
        200: {"content": {"text/markdown": {}}},
        404: {"description": "not-found", **_PROBLEM},
        422: {"description": "invalid-request", **_PROBLEM},
    },
    description=f"A day's report; `day` is {_DAY_DOC}. JSON by default, Markdown with "
    "`?format=md` or `Accept: text/markdown`.",
)
async def get_report(
    day: str,
    session: SessionDep,
    settings: SettingsDep,
    markdown: MarkdownWantedDep,
    lang: LangQuery = None,
) -> ReportRead | PlainTextResponse:
    """A day's report as JSON or Markdown."""
    resolved = await reports.resolve_day(session, day, settings.tz)
    digest = await reports.load_digest(session, resolved)
    language = lang or settings.lang
    labels = labels_for(language, settings.model_recommendations_label)
    if markdown:
        return PlainTextResponse(render_digest(digest, labels), media_type="text/markdown")
    return report_read(digest, labels, language)


_MARKDOWN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/markdown": {"schema": {"type": "string"}}},
    }
}


@router.put(
    "/{day}",
    openapi_extra=_MARKDOWN_BODY,
    responses={
        413: {"description": "payload-too-large", **_PROBLEM},
        415: {"description": "unsupported-media-type", **_PROBLEM},
        422: {"description": "invalid-request", **_PROBLEM},
    },
)
async def put_report(
    day: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LangQuery = None,
) -> ReportRead:
    """Import (replace) a day's report from Markdown in the digest format."""
    resolved = reports.parse_day(day, settings.tz)
    if resolved is None:
        raise InvalidRequest("a report is imported into a named day, not 'latest'")
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ("text/markdown", "text/plain", "text/x-markdown"):
        raise UnsupportedMediaType("send the report as Content-Type: text/markdown")
    body = await read_body_capped(request)
    try:
        markdown = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("the Markdown must be UTF-8") from exc
    digest = parse_digest(markdown, day=resolved)
    stored = await reports.import_digest(session, resolved, digest)
    language = lang or settings.lang
    return report_read(
        reports.report_to_digest(stored),
        labels_for(language, settings.model_recommendations_label),
        language,
    )
