"""Which summary engine the settings ask for."""

from __future__ import annotations

import logging

from app.services.summarize.base import SummaryEngine
from app.services.summarize.offline import OfflineEngine
from app.settings import Settings

log = logging.getLogger("secdigest.summarize")


def build_engine(settings: Settings) -> SummaryEngine:
    """The offline engine; the LLM engine (instructor) is selected here once it exists."""
    if settings.llm_configured:
        log.warning(
            "summarize.engine llm configured but not available in this version; using offline"
        )
    return OfflineEngine()
