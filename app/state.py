"""What the app holds for its lifetime: engine, sessions, HTTP client, summary engine."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.clock import ChangeClock, open_clock
from app.db import create_engine, create_read_sessionmaker, create_sessionmaker
from app.services.exports.blocklist import Blocklists
from app.services.exports.misp import MispFeed
from app.services.exports.render import ExportOptions
from app.services.exports.taxii import TaxiiStore
from app.services.fetch import FetchPolicy, new_http_client
from app.services.fetch.netguard import AllowList
from app.services.iocs.flags import BenignList
from app.services.markdown.display import keep_display_current
from app.services.pipeline import Tools
from app.services.pipeline.limits import BoundedEngine, Limits
from app.services.reports.cache import RenderCache
from app.services.reports.reads import ReportReads
from app.services.summarize.engines import build_engine, close_engine
from app.settings import Settings


@dataclass(slots=True)
class AppState:
    """Long-lived clients, opened once by the server (lifespan) or the CLI."""

    settings: Settings
    engine: AsyncEngine
    # Sessions that write (on SQLite: BEGIN IMMEDIATE), and sessions that only read.
    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]
    clock: ChangeClock
    reports: ReportReads
    # The exports' views of every stored day, memoized per change-clock value.
    taxii: TaxiiStore
    misp_feed: MispFeed
    blocklists: Blocklists
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
        # Every process that writes report items stores their Markdown lines with them.
        keep_display_current()
        limits = Limits(
            fetches=settings.fetch_concurrency,
            per_host=settings.fetch_per_host,
            model_calls=settings.llm_concurrency,
        )
        read_sessionmaker = create_read_sessionmaker(engine)
        clock = open_clock(settings.database_url)
        cache = RenderCache(max_bytes=settings.cache_max_bytes, redis_url=settings.shared_cache_url)
        reports = ReportReads(read_sessionmaker, clock, cache)
        export_options = ExportOptions(producer=settings.producer_name, tlp=settings.tlp)
        state = cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            read_sessionmaker=read_sessionmaker,
            clock=clock,
            reports=reports,
            taxii=TaxiiStore(read_sessionmaker, clock, export_options),
            misp_feed=MispFeed(reports),
            blocklists=Blocklists(reports),
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
        await self.clock.close()
        await self.reports.cache.close()
        if self.summarizer.built is not None:
            await close_engine(self.summarizer.built)
        await self.engine.dispose()
