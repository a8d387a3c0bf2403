"""GET /indicators and POST /indicators/lookup: where an indicator was seen before."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.services.memory import MAX_LOOKUP, MAX_VALUE_LENGTH
from app.services.reports.sections import Section

IndicatorValue = Annotated[str, StringConstraints(min_length=1, max_length=MAX_VALUE_LENGTH)]


class SightingRead(BaseModel):
    """A report entry that lists the indicator."""

    model_config = ConfigDict(from_attributes=True)

    date: dt.date = Field(description="The report's day.")
    item_id: int = Field(description="The entry: `/reports/{date}/items/{item_id}`.")
    title: str
    url: str | None
    section: Section


class IndicatorRead(BaseModel):
    """An indicator, its first and last report days, and its sightings newest first."""

    model_config = ConfigDict(from_attributes=True)

    type: str = Field(description="ipv4, ipv6, domain, url, email, md5, sha1, sha256, ...")
    value: str = Field(description="Normalised (refanged) as report entries store it.")
    first_seen: dt.date
    last_seen: dt.date
    count: int = Field(description="Report entries that list it, every page together.")
    sightings: list[SightingRead] = Field(description="This page, newest day first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last one."
    )


class LookupRequest(BaseModel):
    """Values to look up, in any form (defanged, upper case, a trailing dot)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"values": ["evil[.]com", "45.137.21.9", "T1059.001"]}]},
    )

    values: list[IndicatorValue] = Field(min_length=1, max_length=MAX_LOOKUP)


class LookupResult(BaseModel):
    """What is known of one value: null type when it is no indicator, count 0 if never seen."""

    model_config = ConfigDict(from_attributes=True)

    input: str = Field(description="The value as sent.")
    type: str | None
    value: str | None = Field(description="Normalised; null when the value is no indicator.")
    seen: bool
    first_seen: dt.date | None
    last_seen: dt.date | None
    count: int


class LookupResponse(BaseModel):
    """One result per value sent, in the same order."""

    results: list[LookupResult]
