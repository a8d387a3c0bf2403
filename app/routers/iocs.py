"""Indicators in any text."""

from __future__ import annotations

from fastapi import APIRouter

from app.schemas.iocs import IocsRequest, IocsResponse
from app.schemas.summarize import IocRead
from app.services.iocs import find_iocs

router = APIRouter(tags=["iocs"])


@router.post("/iocs")
async def post_iocs(body: IocsRequest) -> IocsResponse:
    """Find the indicators in a text: refanged values, typed, with their display form."""
    found = find_iocs(body.text)
    return IocsResponse(
        iocs=[
            IocRead(
                type=ioc.type.value,
                value=ioc.value,
                defanged=ioc.defanged,
                raw=ioc.raw,
                was_defanged=ioc.was_defanged,
                offset=ioc.start,
            )
            for ioc in found
        ]
    )
