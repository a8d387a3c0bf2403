"""The summary engine interface: the offline engine and the LLM engine both implement it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from app.services.iocs import Ioc
from app.services.reports.sections import Section


@dataclass(frozen=True, slots=True)
class SummaryInput:
    """What an engine reads: the extracted article and the IOCs the regex engine found."""

    text: str
    title: str | None = None
    url: str | None = None
    # Language of the article text ("ja", "en", ...) when known.
    source_lang: str | None = None
    # Language the digest is written in; the offline engine cannot translate and keeps the
    # article's own language, an LLM engine writes in this one.
    target_lang: str = "ja"
    iocs: tuple[Ioc, ...] = ()


@dataclass(frozen=True, slots=True)
class SummaryResult:
    """One digest entry's text: the summary bullets and the three lists that follow them."""

    title: str
    bullets: list[str]
    recommendations: list[str]
    other: list[str]
    model_recommendations: list[str]
    section: Section
    engine: str  # "offline" | "llm"
    lang: str
    model: str | None = None
    degraded: bool = False
    degraded_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    # CVE and ATT&CK technique ids the entry is about (grounded in the text / a known list).
    cves: list[str] = field(default_factory=list)
    attack_techniques: list[str] = field(default_factory=list)
    # Values the model produced that the source text does not support, by kind: dropped.
    dropped: dict[str, int] = field(default_factory=dict)
    prompt_version: str | None = None


class SummaryEngine(Protocol):
    """Turns an article into a digest entry. Implementations never decide what the IOCs are."""

    name: str  # "offline" | "llm"

    # With the content hash and the language, what a stored summary is reused by.
    @property
    def model(self) -> str | None: ...

    @property
    def prompt_version(self) -> str | None: ...

    async def summarize(self, doc: SummaryInput) -> SummaryResult: ...
