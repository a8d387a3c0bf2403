"""POST /iocs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.summarize import FoundIocRead


class IocsRequest(BaseModel):
    """Text to search for indicators."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="Any text; defanged indicators are recognised.")
    source_url: str | None = Field(
        None, max_length=2048, description="Page the text comes from: its own names are flagged."
    )


class IocsResponse(BaseModel):
    """The indicators found, in order of first appearance."""

    iocs: list[FoundIocRead]
