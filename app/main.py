"""The FastAPI application: lifespan, routers, error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from app.errors import install_error_handlers
from app.jobs import start_jobs, stop_jobs
from app.middleware import IdempotencyMiddleware
from app.routers import health, iocs, jobs, reports, summarize
from app.settings import Settings, get_settings
from app.state import AppState

DESCRIPTION = """\
Security news in, the **Daily Security Info** digest out: summaries, typed IOCs
(refanged in JSON, defanged in Markdown) and recommendations.

Errors are `application/problem+json` (RFC 9457) with a stable `type` such as
`/problems/fetch-blocked`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; its clients open in the lifespan and close on shutdown."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = AppState.open(settings)
        app.state.secdigest = state
        await start_jobs(state)
        try:
            yield
        finally:
            await stop_jobs()
            await state.close()

    app = FastAPI(
        title="secdigest",
        version=version("secdigest"),
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    app.include_router(summarize.router)
    app.include_router(reports.router)
    app.include_router(iocs.router)
    app.include_router(jobs.router)
    app.include_router(health.router)
    return app
