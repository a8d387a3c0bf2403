"""What the model must return for one article: the digest entry, as a Pydantic model.

The field descriptions are the model's instructions for each field (instructor sends them
in the JSON schema). Caps keep an answer the size of a digest entry; overlong text and
long lists are trimmed rather than re-asked, because a re-ask costs a whole second call
for what a slice fixes. Too few bullets, a missing field or an extra one are errors, and
instructor re-asks once.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from app.services.reports.sections import Section

TITLE_CHARS = 200
ITEM_CHARS = 400
MIN_BULLETS, MAX_BULLETS = 3, 7
MAX_NOTES = 8
MAX_MODEL_RECOMMENDATIONS = 5
MAX_IDS = 30

_WS = re.compile(r"\s+")
_CVE = re.compile(r"CVE-\d{4}-\d{4,7}", re.IGNORECASE)
_TECHNIQUE = re.compile(r"T\d{4}(?:\.\d{3})?", re.IGNORECASE)


def _clip(limit: int) -> BeforeValidator:
    def clip(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = _WS.sub(" ", value).strip()
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

    return BeforeValidator(clip)


Title = Annotated[str, _clip(TITLE_CHARS), Field(min_length=1, max_length=TITLE_CHARS)]
Item = Annotated[str, _clip(ITEM_CHARS), Field(min_length=1, max_length=ITEM_CHARS)]


def _list_cap(limit: int) -> BeforeValidator:
    def cap(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        # Blank items are the model padding a list; they are not worth a re-ask.
        kept = [v for v in value if not (isinstance(v, str) and not v.strip())]
        return kept[:limit]

    return BeforeValidator(cap)


def _ids(pattern: re.Pattern[str]) -> BeforeValidator:
    def pick(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        # "CVE-2024-3400 (PAN-OS)" is the id with a comment: keep the id, in order, once.
        found: dict[str, None] = {}
        for item in value:
            if isinstance(item, str):
                found.update((m.upper(), None) for m in pattern.findall(item))
        return list(found)[:MAX_IDS]

    return BeforeValidator(pick)


class DigestEntry(BaseModel):
    """One article of the Daily Security Info digest, written in the requested language."""

    model_config = ConfigDict(extra="forbid")

    title: Title = Field(
        description="The article's title translated into the requested language; "
        "keep product, malware and actor names as written."
    )
    bullets: Annotated[
        list[Item], _list_cap(MAX_BULLETS), Field(min_length=MIN_BULLETS, max_length=MAX_BULLETS)
    ] = Field(
        description=f"{MIN_BULLETS} to {MAX_BULLETS} summary points, each a complete factual "
        "sentence in the requested language: what happened, who is affected, how the attack "
        "or flaw works, its impact. Only facts stated in the article."
    )
    recommendations: Annotated[list[Item], _list_cap(MAX_NOTES), Field(max_length=MAX_NOTES)] = (
        Field(
            default_factory=list,
            description="Recommendations the article itself gives (patch, block, hunt for, "
            "configure...), in the requested language. Empty if the article gives none.",
        )
    )
    other: Annotated[list[Item], _list_cap(MAX_NOTES), Field(max_length=MAX_NOTES)] = Field(
        default_factory=list,
        description="Other notes from the article: attribution, threat actor names and their "
        "aliases, malware families, victims, targeted sectors and countries. Empty if none.",
    )
    model_recommendations: Annotated[
        list[Item],
        _list_cap(MAX_MODEL_RECOMMENDATIONS),
        Field(max_length=MAX_MODEL_RECOMMENDATIONS),
    ] = Field(
        default_factory=list,
        description="Your own short recommendations for defenders, beyond what the article "
        "says, in the requested language.",
    )
    section: Section = Field(
        description="Where the item belongs in the digest: tools (a security tool or release), "
        "malware_campaign (a malware family or campaign analysis), security_report (a "
        "vendor or government report, vulnerability advisory or research), "
        "cybercrime_topics (arrests, takedowns, markets, fraud), daily_news (other security "
        "news), japan_incidents (an incident at a Japanese organisation), memos (anything else)."
    )
    cves: Annotated[list[str], _ids(_CVE), Field(max_length=MAX_IDS)] = Field(
        default_factory=list,
        description="CVE ids the article is about, taken only from the CVE list you were given.",
    )
    attack_techniques: Annotated[list[str], _ids(_TECHNIQUE), Field(max_length=MAX_IDS)] = Field(
        default_factory=list,
        description="MITRE ATT&CK Enterprise technique ids (T1566, T1059.001) of behaviour "
        "the article describes. Only real ATT&CK ids; empty if unsure.",
    )

    @field_validator("section", mode="before")
    @classmethod
    def _section_key(cls, value: Any) -> Any:
        # "Malware Campaign" and "malware-campaign" are the right answer in another spelling.
        if isinstance(value, str):
            return re.sub(r"[\s-]+", "_", value.strip().lower())
        return value
