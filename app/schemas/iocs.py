"""POST /iocs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.summarize import IocRead


class IocsRequest(BaseModel):
    """Text to search for indicators."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="Any text; defanged indicators are recognised.")


class IocsResponse(BaseModel):
    """The indicators found, in order of first appearance."""

    iocs: list[IocRead]
