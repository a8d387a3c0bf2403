"""Which summary engine the settings ask for."""

from __future__ import annotations

import logging

from app.services.summarize.base import SummaryEngine
from app.services.summarize.offline import OfflineEngine
from app.settings import Settings

log = logging.getLogger("secdigest.summarize")


def build_engine(settings: Settings) -> SummaryEngine:
    """The LLM engine when a model is configured (base URL or key), else the offline one."""
    if settings.llm_configured:
        # Imported here: openai and instructor take a while to import, and the offline
        # default (and the CLI's batch commands) should not pay for them.
        from app.services.summarize.llm import build_llm_engine  # noqa: PLC0415

        engine = build_llm_engine(settings)
        log.info(
            "summarize.engine llm model=%s mode=%s endpoint=%s",
            settings.llm_model,
            settings.llm_mode,
            settings.llm_base_url or "openai",
        )
        return engine
    log.info("summarize.engine offline (no SECDIGEST_LLM_BASE_URL or key)")
    return OfflineEngine()


async def close_engine(engine: SummaryEngine) -> None:
    """Release what an engine holds (the LLM engine's HTTP client)."""
    aclose = getattr(engine, "aclose", None)
    if aclose is not None:
        await aclose()
