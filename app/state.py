"""What the app holds for its lifetime: engine, sessions, HTTP client, summary engine."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import create_engine, create_sessionmaker
from app.services.fetch import FetchPolicy, new_http_client
from app.services.fetch.netguard import AllowList
from app.services.iocs.flags import BenignList
from app.services.pipeline import Tools
from app.services.pipeline.limits import BoundedEngine, Limits
from app.services.summarize.engines import build_engine, close_engine
from app.settings import Settings


@dataclass(slots=True)
class AppState:
    """Long-lived clients, opened once by the server (lifespan) or the CLI."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    summarizer: BoundedEngine
    fetch_policy: FetchPolicy
    benign: BenignList
    limits: Limits

    @property
    def tools(self) -> Tools:
        """What the pipeline works with."""
        return Tools(self.http, self.summarizer, self.fetch_policy, self.benign, self.limits)

    @classmethod
    def open(cls, settings: Settings, *, warm: bool = False) -> AppState:
        """Create every client from the settings (no I/O happens until first use).

        `warm` builds the summary engine now: a server or a worker should not block its
        event loop for the model client's setup in the middle of its first jobs (heartbeats
        would stall); a CLI command that may summarize nothing builds it only if needed.
        """
        engine = create_engine(settings.database_url)
        limits = Limits(
            fetches=settings.fetch_concurrency,
            per_host=settings.fetch_per_host,
            model_calls=settings.llm_concurrency,
        )
        state = cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            http=new_http_client(user_agent=settings.user_agent, timeout=settings.fetch_timeout),
            summarizer=BoundedEngine(
                lambda: build_engine(settings),
                limits,
                name="llm" if settings.llm_configured else "offline",
            ),
            fetch_policy=FetchPolicy(
                allow=AllowList.parse(settings.fetch_allow),
                timeout=settings.fetch_timeout,
                max_bytes=settings.fetch_max_bytes,
                max_redirects=settings.fetch_max_redirects,
                ports=frozenset(settings.fetch_ports),
            ),
            benign=BenignList.with_defaults(settings.ioc_benign),
            limits=limits,
        )
        if warm:
            _ = state.summarizer.inner
        return state

    async def close(self) -> None:
        """Close the HTTP client and the database pool."""
        await self.http.aclose()
        if self.summarizer.built is not None:
            await close_engine(self.summarizer.built)
        await self.engine.dispose()
