"""The FastAPI application: lifespan, routers, error handlers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from app.errors import install_error_handlers
from app.http.cors import OriginCORSMiddleware
from app.http.middleware import (
    GzipIfAccepted,
    HeadMiddleware,
    IdempotencyMiddleware,
    RequestContextMiddleware,
)
from app.http.reads import CachedReadsMiddleware
from app.http.security import install_security
from app.logs import configure_logging
from app.routers import (
    blocklist,
    cves,
    delivery,
    feeds,
    health,
    indicators,
    iocs,
    jobs,
    misp,
    problems,
    reports,
    search,
    summarize,
    taxii,
)
from app.routers.docs import install_docs
from app.services.reports.reads import GZIP_MIN_BYTES
from app.settings import Settings, get_settings
from app.state import AppState
from app.tasks import start_jobs, stop_jobs

DESCRIPTION = """\
Security news in, the **Daily Security Info** digest out: summaries, typed IOCs
(refanged in JSON, defanged in Markdown) and recommendations.

Errors are `application/problem+json` (RFC 9457) with a stable `type` such as
`/problems/fetch-blocked`.

Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>` (created with
`secdigest keys create`); a `read` key may GET, a `write` key may also change things.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; its clients open in the lifespan and close on shutdown."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = AppState.open(settings, warm=True)
        app.state.secdigest = state
        await start_jobs(state)
        # Everything built so far (the app, its routes, the libraries' objects) lives as
        # long as the process: out of the collector's sight, a full collection no longer
        # walks it, and reads lose their 50-100 ms pauses.
        gc.freeze()
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
        # Served by install_docs with the package's own scripts, not a CDN's.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    # Outside the idempotency replay (a stored answer is the identity bytes, encoded for
    # whoever asks again); answers already compressed (cached days) pass as they are.
    app.add_middleware(GzipIfAccepted, minimum_size=GZIP_MIN_BYTES, compresslevel=6)
    # Cache hits of the report reads, after the key check (below) and before routing.
    app.add_middleware(CachedReadsMiddleware)
    # Added after (so outside) the idempotency replay: a stored answer is never replayed to
    # a request that has not passed the key check.
    install_security(app, rate_limit=settings.rate_limit, auth_fail_limit=settings.auth_fail_limit)
    app.add_middleware(HeadMiddleware)
    if settings.cors_origins:
        # Outside the key check: an allowed origin's preflight carries no key (app/http/cors).
        app.add_middleware(OriginCORSMiddleware, origins=settings.cors_origins)
    # Outermost: every answer, refusals included, carries a request id and is logged once;
    # an oversized body is refused before anything reads it.
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.include_router(summarize.router)
    app.include_router(reports.router)
    app.include_router(delivery.router)
    app.include_router(iocs.router)
    app.include_router(cves.router)
    app.include_router(indicators.router)
    app.include_router(feeds.router)
    app.include_router(jobs.router)
    app.include_router(misp.router)
    app.include_router(blocklist.router)
    app.include_router(taxii.router)
    app.include_router(search.router)
    app.include_router(health.router)
    app.include_router(problems.router)
    install_docs(app)
    return app


def serve_app() -> FastAPI:
    """The app as `secdigest serve` runs it, in each of its processes: our logging first
    (worker processes start fresh and would log nothing of their own)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
