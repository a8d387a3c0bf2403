"""Indicators in any text."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import ToolsDep
from app.schemas.iocs import IocsRequest, IocsResponse
from app.schemas.summarize import FoundIocRead
from app.services.iocs import find_iocs

router = APIRouter(tags=["iocs"])


@router.post("/iocs")
async def post_iocs(body: IocsRequest, tools: ToolsDep) -> IocsResponse:
    """Find the indicators in a text: refanged values, typed, with their display form."""
    found = find_iocs(body.text, source_url=body.source_url, benign=tools.benign)
    return IocsResponse(iocs=[FoundIocRead.model_validate(ioc) for ioc in found])
