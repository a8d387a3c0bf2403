"""Summary engines. `offline_bullets` is the pure entry point the benchmarks call."""

from app.services.summarize.offline import offline_bullets

__all__ = ["offline_bullets"]
