"""GET /cves/{id}: a CVE's KEV entry, EPSS score and the report entries citing it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.deps import ReadSessionDep
from app.errors import PROBLEM_JSON
from app.schemas.cves import CveId, CveRead, cve_read
from app.services import enrich

router = APIRouter(tags=["cves"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}


@router.get(
    "/cves/{cve_id}",
    responses={422: {"description": "invalid-request: not a CVE id", **_PROBLEM}},
)
async def get_cve(cve_id: CveId, session: ReadSessionDep) -> CveRead:
    """A CVE's KEV entry and EPSS score (null when not loaded) and the entries citing it."""
    return cve_read(await enrich.cve_details(session, cve_id))
