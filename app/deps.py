"""Dependencies for routes, named once as Annotated aliases.

All of them are `async def`, even those that do not await: FastAPI runs a plain `def`
dependency in a thread pool, a hop that cost a cached read a third of its time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import session_scope
from app.errors import PayloadTooLarge
from app.http.conditional import DAY_FORMATS, SUMMARY_FORMATS, wanted_format, wanted_markdown
from app.services.pipeline import Tools
from app.settings import Settings
from app.state import AppState

MARKDOWN = "text/markdown"


async def get_state(request: Request) -> AppState:
    """The AppState opened by the lifespan."""
    state: AppState = request.app.state.secdigest
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed once before the answer is sent."""
    async with session_scope(state.sessionmaker) as session:
        yield session


# scope="function": the commit happens before the response leaves, so a failed commit is
# an error answer, never a 200 for data that was not stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """A session that only reads: on SQLite it never takes the write lock."""
    async with state.read_sessionmaker() as session:
        yield session


# For routes that only read (GET): a write through it is a bug (CONTRIBUTING.md).
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


async def get_settings_dep(state: StateDep) -> Settings:
    """The app's settings."""
    return state.settings


async def get_tools(state: StateDep) -> Tools:
    """The pipeline's clients: HTTP, summary engine, fetch policy, benign list."""
    return state.tools


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ToolsDep = Annotated[Tools, Depends(get_tools)]


async def wants_markdown(
    request: Request,
    format: Annotated[
        str | None,
        # Documented as an enum, checked by wanted_markdown: another value is a 406.
        Query(description="md or json", json_schema_extra={"enum": list(SUMMARY_FORMATS)}),
    ] = None,
) -> bool:
    """`?format=md`, or an Accept header that prefers text/markdown to JSON; 406 when
    neither allows JSON or Markdown."""
    return wanted_markdown(format, request.headers.get("accept"))


MarkdownWantedDep = Annotated[bool, Depends(wants_markdown)]


async def day_format(
    request: Request,
    format: Annotated[
        str | None,
        # Documented as an enum, checked by wanted_format: another value is a 406.
        Query(
            json_schema_extra={"enum": list(DAY_FORMATS)},
            description="json (default), md, html (a page to read and print), "
            "stix (STIX 2.1 bundle), misp (MISP events), csv",
        ),
    ] = None,
) -> str:
    """The format of a day: `?format=`, else the Accept header (STIX, CSV, Markdown, HTML),
    else JSON; 406 (not-acceptable) for a format or an Accept the day has not."""
    return wanted_format(format, request.headers.get("accept"))


DayFormatDep = Annotated[str, Depends(day_format)]

MAX_MARKDOWN_BYTES = 2 * 1024 * 1024


async def read_body_capped(request: Request, limit: int = MAX_MARKDOWN_BYTES) -> bytes:
    """The request body, refused with 413 as soon as it passes the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
