"""Summaries: an engine writes the five lists of an entry from an article and its IOCs.

Public surface:
- `base`: `SummaryEngine` (the protocol), `SummaryInput`, `SummaryResult`
- `engines`: `build_engine(settings)` (the LLM engine when a model is configured, else the
  offline one), `close_engine`
- `cache`: `summarize(session, engine, input, content_hash=)`: a model summary of the same
  text, model, language and prompt version is made once
- `offline_bullets(text, ...)`: the offline engine's pure entry point (the benchmark's hook)
- `attack`: `lookup(id)`, the bundled ATT&CK Enterprise table (names, status), which the
  exports read too

The offline engine (`offline`, with `sentences`, `classify`, `notes`, `cues`) extracts; the
LLM engine (`llm`, with `prompt`, `llm_schema`, `grounding`, `tokens`, `breaker`, `attack`)
asks an OpenAI-compatible model through instructor and keeps only what the article supports.
"""

from app.services.summarize.offline import offline_bullets

__all__ = ["offline_bullets"]
