"""A CVE's context as JSON: its KEV entry, its EPSS score, the report entries citing it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.services.enrich import CveDetails

# CVE-YYYY-NNNN in any case; the sequence bounded so that an id fits its column (the
# readers of the sources use the same rule). [0-9]: \d would take any script's digits.
CveId = Annotated[
    str, StringConstraints(pattern=r"^[Cc][Vv][Ee]-[0-9]{4}-[0-9]{4,20}$", max_length=29)
]


class KevRead(BaseModel):
    """The CVE's entry in CISA's Known Exploited Vulnerabilities catalog."""

    date_added: dt.date
    due_date: dt.date = Field(description="CISA's remediation deadline for US federal agencies.")
    known_ransomware_campaign_use: str = Field(description="`Known` or `Unknown`.")


class EpssRead(BaseModel):
    """The CVE's FIRST EPSS score: the probability of exploitation in the next 30 days."""

    score: float = Field(ge=0, le=1)
    percentile: float = Field(ge=0, le=1)
    date: dt.date = Field(description="The day of the scores.")


class CitingArticleRead(BaseModel):
    """A report entry whose indicators list the CVE."""

    date: dt.date = Field(description="The report's day.")
    item_id: int
    title: str
    url: str | None
    section: str


class CveRead(BaseModel):
    """What is known of a CVE; `kev` and `epss` are null when not loaded or not listed."""

    id: str = Field(examples=["CVE-2024-38077"])
    kev: KevRead | None
    epss: EpssRead | None
    articles: list[CitingArticleRead] = Field(description="Newest day first.")


def cve_read(details: CveDetails) -> CveRead:
    """The JSON of GET /cves/{id}."""
    context = details.context
    return CveRead(
        id=details.id,
        kev=KevRead.model_validate(context.kev) if context.kev else None,
        epss=EpssRead.model_validate(context.epss) if context.epss else None,
        articles=[
            CitingArticleRead(
                date=a.date, item_id=a.item_id, title=a.title, url=a.url, section=a.section
            )
            for a in details.articles
        ],
    )
