"""Daily reports: list, read (JSON, Markdown or a page), import from Markdown, curate items."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.deps import (
    DayFormatDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    StateDep,
    ToolsDep,
    read_body_capped,
)
from app.errors import PROBLEM_JSON, InvalidRequest, UnsupportedMediaType
from app.http.conditional import accepts_gzip, answer, not_modified
from app.models import ReportItem
from app.schemas.curation import (
    ArticleItemCreate,
    CuratedItemRead,
    ItemCreate,
    ItemPatch,
    curated_item_read,
)
from app.schemas.ids import RowId
from app.schemas.reports import ReportListRead, ReportRead, report_json, report_read
from app.services import curation, pages, reports
from app.services.exports import entries as exports
from app.services.exports.render import EXPORT_FORMATS, ExportOptions, render_export
from app.services.markdown import Labels, labels_for, parse_report, render_report
from app.services.reports.context import day_context
from app.services.reports.document import ReportDocument
from app.services.reports.reads import DayState, Rendered, Representation, labels_key
from app.state import AppState

router = APIRouter(prefix="/reports", tags=["reports"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_DAY_DOC = "`YYYY-MM-DD`, `today` or `latest`"
LangQuery = Annotated[
    Literal["ja", "en"] | None, Query(description="Language of headings and labels.")
]


@router.get("", response_model=ReportListRead)
async def list_reports(request: Request, state: StateDep) -> Response:
    """Days that have a report, newest first, with their item counts."""
    rendered = await state.reports.days(
        gzip_ok=accepts_gzip(request.headers.get("accept-encoding"))
    )
    return _cached(request, rendered.representation, rendered)


@router.get(
    "/{day}",
    response_model=ReportRead,
    responses={
        200: {"content": {"text/markdown": {}, "text/html": {}}},
        304: {"description": "not modified: the ETag sent in If-None-Match is current"},
        404: {"description": "not-found", **_PROBLEM},
        422: {"description": "invalid-request", **_PROBLEM},
    },
    description=f"A day's report; `day` is {_DAY_DOC}. JSON by default, Markdown with "
    "`?format=md` or `Accept: text/markdown`, a self-contained page to read and print with "
    "`?format=html` or a browser's `Accept: text/html`. Answers carry an ETag: send it back "
    "in If-None-Match to get a 304 while the day has not changed.",
)
async def get_report(
    day: str,
    request: Request,
    state: StateDep,
    fmt: DayFormatDep,
    lang: LangQuery = None,
    include_flagged: Annotated[
        bool, Query(description="Exports: keep benign, private... indicators (labelled).")
    ] = False,
    bom: Annotated[bool, Query(description="CSV: start with a UTF-8 BOM (Excel).")] = False,
    new_only: Annotated[
        bool,
        Query(
            description="JSON: keep only the indicators first seen on this day (every entry "
            "stays). The Markdown digest has no such view (422)."
        ),
    ] = False,
) -> Response:
    """A day's report as JSON, Markdown or a page, or exported as STIX 2.1, MISP or CSV."""
    settings = state.settings
    if new_only and fmt != "json":
        raise InvalidRequest(
            "new_only: only the JSON report keeps only new indicators (format=json)"
        )
    if fmt in EXPORT_FORMATS:
        return await _export(request, state, day, fmt, include_flagged=include_flagged, bom=bom)
    markdown = fmt == "md"
    language = lang or settings.lang
    labels = labels_for(language, settings.model_recommendations_label)
    if fmt == "html":
        return await _page(request, state, day, lang=language, labels=labels)
    representation = await state.reports.day_representation(
        day, tz=settings.tz, markdown=markdown, lang=language, labels=labels, new_only=new_only
    )
    if not_modified(request.headers.get("if-none-match"), representation.etag):
        return _cached(request, representation, None)

    async def render(session: AsyncSession, document: ReportDocument) -> bytes:
        if markdown:
            return render_report(document, labels).encode("utf-8")
        context = await day_context(session, document)
        return report_json(document, labels, language, context, new_only=new_only)

    rendered = await state.reports.day_body(
        representation,
        render,
        markdown=markdown,
        lang=language,
        labels=labels,
        gzip_ok=accepts_gzip(request.headers.get("accept-encoding")),
        new_only=new_only,
    )
    return _cached(request, rendered.representation, rendered)


async def _export(
    request: Request, state: AppState, day: str, fmt: str, *, include_flagged: bool, bom: bool
) -> Response:
    """A day in an export format, through the read cache like the day itself."""
    settings = state.settings
    options = ExportOptions(
        producer=settings.producer_name,
        tlp=settings.tlp,
        include_flagged=include_flagged,
        bom=bom and fmt == "csv",
    )
    kind = f"{fmt}:{options.key}"
    representation = await state.reports.kind_representation(
        day, tz=settings.tz, kind=kind, media_type=EXPORT_FORMATS[fmt]
    )
    if not_modified(request.headers.get("if-none-match"), representation.etag):
        return _cached(request, representation, None)

    async def render(session: AsyncSession, day_state: DayState) -> bytes:
        found = await exports.entries(session, first=day_state.day, last=day_state.day)
        return render_export(fmt, found, day=day_state.day, options=options)

    rendered = await state.reports.kind_body(
        representation,
        render,
        kind=kind,
        gzip_ok=accepts_gzip(request.headers.get("accept-encoding")),
    )
    return _cached(request, rendered.representation, rendered)


# The page runs only its own script (by hash) and is never framed; no sniffing a page into
# something else, no Referer leaking the server's address to the sites it links.
_PAGE_HEADERS = {
    "Content-Security-Policy": pages.CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def _page(
    request: Request, state: AppState, day: str, *, lang: str, labels: Labels
) -> Response:
    """A day as a page, through the read cache; keyed on the change clock too: it links
    the days before and after it, which any write may change."""
    kind = f"html:{lang}:{labels_key(labels)}"
    representation = await state.reports.kind_representation(
        day, tz=state.settings.tz, kind=kind, media_type=pages.MEDIA_TYPE, clocked=True
    )
    if not_modified(request.headers.get("if-none-match"), representation.etag):
        response = _cached(request, representation, None)
    else:

        async def render(session: AsyncSession, day_state: DayState) -> bytes:
            return await pages.render_day_page(session, day_state, labels, lang=lang)

        rendered = await state.reports.kind_body(
            representation,
            render,
            kind=kind,
            gzip_ok=accepts_gzip(request.headers.get("accept-encoding")),
            clocked=True,
        )
        response = _cached(request, rendered.representation, rendered)
    response.headers.update(_PAGE_HEADERS)
    return response


def _cached(
    request: Request, representation: Representation, rendered: Rendered | None
) -> Response:
    """The answer of a cached representation (304 when the client's copy is current)."""
    status, headers, body = answer(representation, rendered, request.headers.get("if-none-match"))
    return Response(body, status_code=status, headers=headers)


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
    digest = parse_report(markdown, day=resolved)
    stored = await reports.import_document(session, resolved, digest)
    language = lang or settings.lang
    document = reports.report_to_document(stored)
    return report_read(
        document,
        labels_for(language, settings.model_recommendations_label),
        language,
        await day_context(session, document),
    )


_ITEM_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "not-found: no report that day, or no such item", **_PROBLEM},
    422: {"description": "invalid-request", **_PROBLEM},
}


@router.post(
    "/{day}/items",
    status_code=201,
    responses={
        **_ITEM_ERRORS,
        200: {"description": "the same story was already an entry: the URL joined its sources"},
        400: {"description": "fetch-blocked", **_PROBLEM},
        409: {"description": "conflict: the URL is already in that report (`item_id`)", **_PROBLEM},
        502: {"description": "fetch-failed, fetch-too-large", **_PROBLEM},
        504: {"description": "fetch-timeout", **_PROBLEM},
    },
)
async def add_item(
    day: str,
    body: Annotated[
        ItemCreate,
        Body(
            openapi_examples={
                "article": {"value": {"url": "https://example.com/news/1", "section": "tools"}},
                "link": {
                    "value": {
                        "kind": "link",
                        "title": "An incident",
                        "url": "https://example.jp/1",
                        "section": "japan_incidents",
                    }
                },
            }
        ),
    ],
    session: SessionDep,
    tools: ToolsDep,
    settings: SettingsDep,
    response: Response,
) -> CuratedItemRead:
    """Add an item to a day's report: a URL summarized into a section, or a link.

    A link in an article section is listed there as a `- [title](url)` line too. A URL
    whose story is already an entry (another site's article) joins that entry as a source:
    200 with that entry instead of 201.
    """
    resolved = await reports.resolve_day(session, day, settings.tz)
    if isinstance(body, ArticleItemCreate):
        added = await curation.add_article(
            session,
            tools,
            url=body.url,
            placement=body.placement(resolved, settings.lang),
            position=body.position,
        )
        item = added.item
        if not added.created:
            response.status_code = 200  # merged into the entry of the same story
    else:
        item = await curation.add_link(
            session,
            day=resolved,
            title=body.title,
            url=body.url,
            section=body.section,
            position=body.position,
        )
    response.headers["Location"] = f"/reports/{resolved.isoformat()}/items/{item.id}"
    return await _item_answer(session, item, resolved)


@router.get("/{day}/items/{item_id}", responses=_ITEM_ERRORS)
async def get_item(
    day: str, item_id: RowId, session: ReadSessionDep, settings: SettingsDep
) -> CuratedItemRead:
    """One item of a day's report."""
    resolved = await reports.resolve_day(session, day, settings.tz)
    item = await curation.get_item(session, day=resolved, item_id=item_id)
    return await _item_answer(session, item, resolved)


@router.patch("/{day}/items/{item_id}", responses=_ITEM_ERRORS)
async def edit_item(
    day: str, item_id: RowId, body: ItemPatch, session: SessionDep, settings: SettingsDep
) -> CuratedItemRead:
    """Edit an item's text, move it to another section or place; the others shift.

    IOCs can only be removed (`iocs` lists those to keep), never added: they are evidence.
    """
    resolved = await reports.resolve_day(session, day, settings.tz)
    item = await curation.edit_item(session, day=resolved, item_id=item_id, edit=body.edit())
    return await _item_answer(session, item, resolved)


@router.delete(
    "/{day}/items/{item_id}", status_code=204, response_class=Response, responses=_ITEM_ERRORS
)
async def delete_item(day: str, item_id: RowId, session: SessionDep, settings: SettingsDep) -> None:
    """Remove an item from the report; the others of its section close the gap."""
    resolved = await reports.resolve_day(session, day, settings.tz)
    await curation.remove_item(session, day=resolved, item_id=item_id)


async def _item_answer(session: AsyncSession, item: ReportItem, day: date) -> CuratedItemRead:
    """An item as the report JSON shows it, with its indicators' memory and CVE context."""
    document = ReportDocument(day=day, items=[reports.item_to_document(item)])
    return curated_item_read(item, day, await day_context(session, document))
