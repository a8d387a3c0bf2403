"""Liveness and readiness."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import app.metrics  # noqa: F401  (registers the service's metrics)
from app.deps import StateDep
from app.errors import NotReady, problem_of
from app.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])
log = logging.getLogger("secdigest.health")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get(
    "/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}}
)
async def metrics() -> Response:
    """Prometheus metrics: model calls and tokens, summaries, dropped ungrounded values."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz", response_model=None)
async def readyz(state: StateDep) -> JSONResponse | dict[str, str]:
    """Readiness: the database answers and its schema is at the code's migration head."""
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        revision = await current_revision(state.engine)
    except (SQLAlchemyError, OSError) as exc:
        # The probe is open to anyone: the driver's exception is for our log only.
        log.warning("ready.database_unreachable error=%s", type(exc).__name__)
        return problem_of(NotReady, "the database is unreachable")
    head = head_revision()
    if revision != head:
        return problem_of(NotReady, f"database at migration {revision}, code at {head}")
    return {"status": "ready", "migration": str(revision)}
