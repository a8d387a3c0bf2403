"""The fixed words of the digest, per language."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from app.services.reports.sections import SECTION_HEADINGS, Section


@dataclass(frozen=True, slots=True)
class Labels:
    """Headings of the five lists of an article entry and what an empty list says."""

    summary: str
    iocs: str
    recommendations: str
    other: str
    model_recommendations: str
    no_summary: str
    no_iocs: str
    no_recommendations: str
    no_other: str
    no_model_recommendations: str
    empty_section: str
    sections: dict[Section, str]


_JA = Labels(
    summary="要約",
    iocs="IOCの列挙",
    recommendations="推奨事項",
    other="その他",
    model_recommendations="ChatGPTの推奨事項",
    no_summary="なし",
    no_iocs="IOC情報なし",
    no_recommendations="推奨事項なし",
    no_other="なし",
    no_model_recommendations="推奨事項なし",
    empty_section="N/A",
    sections=SECTION_HEADINGS["ja"],
)

_EN = Labels(
    summary="Summary",
    iocs="IOCs",
    recommendations="Recommendations",
    other="Other",
    model_recommendations="Model recommendations",
    no_summary="None",
    no_iocs="No IOCs",
    no_recommendations="No recommendations",
    no_other="None",
    no_model_recommendations="No recommendations",
    empty_section="N/A",
    sections=SECTION_HEADINGS["en"],
)

LABELS: dict[str, Labels] = {"ja": _JA, "en": _EN}


@cache
def labels_for(lang: str, model_recommendations: str | None = None) -> Labels:
    """The labels of a language; the model's recommendations heading can be renamed.

    One object per combination (cached): readers key their caches by it.
    """
    base = LABELS.get(lang, _JA)
    if model_recommendations:
        return replace(base, model_recommendations=model_recommendations)
    return base
