"""All configuration, read once from the environment and `.env` (prefix SECDIGEST_)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/secdigest.db"


class Settings(BaseSettings):
    """The `SECDIGEST_*` variables of the contract, and a few of our own."""

    model_config = SettingsConfigDict(
        env_prefix="SECDIGEST_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    auto_migrate: bool = True

    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str = "gpt-4o-mini"
    # instructor's mode: tools (OpenAI, vLLM), json (Ollama), json_schema (LM Studio,
    # llama.cpp), md_json (anything that can only write text).
    llm_mode: Literal["tools", "json", "json_schema", "md_json"] = "tools"
    # The whole budget of one article's summary, retries included (an outer deadline).
    llm_timeout: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    # The article is cut to this many tokens (tiktoken), keeping the lead and the
    # paragraphs with indicators.
    llm_max_input_tokens: int = Field(default=6000, ge=500)
    llm_max_output_tokens: int = Field(default=1500, ge=200)
    # After this many consecutive failures the model is left alone for a while.
    llm_breaker_failures: int = Field(default=5, ge=1)
    llm_breaker_cooldown: float = Field(default=60.0, gt=0)
    # What the endpoint charges, USD per million prompt / completion tokens: `secdigest bench
    # llm` prices its run with them (one unset counts as 0; both unset: no price).
    llm_price_in: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    llm_price_out: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    lang: Literal["ja", "en"] = "ja"
    timezone: str = "Asia/Tokyo"
    # The heading of the model's own recommendations; unset, it is the language's default
    # ("ChatGPTの推奨事項" in Japanese, as the analysts' digest calls it).
    model_recommendations_label: str | None = None

    fetch_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Extra well-known harmless names/addresses/CIDRs, flagged "benign" (not dropped).
    ioc_benign: Annotated[list[str], NoDecode] = Field(default_factory=list)
    fetch_timeout: float = Field(default=15.0, gt=0)
    fetch_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    fetch_max_redirects: int = Field(default=5, ge=0)
    # Ports a fetch may connect to; SECDIGEST_FETCH_ALLOW (host:port) adds exceptions.
    fetch_ports: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [80, 443, 8080, 8443]
    )
    # Request bodies larger than this are refused with 413 before they are read whole.
    max_body_bytes: int = Field(default=12 * 1024 * 1024, gt=0)
    # Requests per key (or per client address when no key is required), e.g. "120/minute".
    rate_limit: str = "120/minute"
    # Failed authentications per client address (a wrong, revoked or missing key). Past it,
    # that address's failing requests get 429 instead of 401; a valid key is never refused
    # by this bucket (behind a reverse proxy every client shares one address).
    auth_fail_limit: str = "30/minute"
    user_agent: str = "secdigest/0.1 (+https://github.com/secdigest)"

    # Jobs: unset, an in-process queue; redis://... for worker processes (secdigest worker).
    broker_url: str | None = None
    broker_queue: str = "secdigest:jobs"  # the Redis list the API and the workers share
    # Bounded concurrency of the work behind feeds and jobs.
    fetch_concurrency: int = Field(default=8, ge=1)
    fetch_per_host: int = Field(default=2, ge=1)
    llm_concurrency: int = Field(default=8, ge=1)
    feed_interval: int = Field(default=3600, ge=60)  # seconds between pulls of a feed
    # Whether this process pulls due feeds on schedule (the API server with the in-process
    # queue, every `secdigest worker` with Redis; the claim keeps it once per interval).
    feed_schedule: bool = True
    feed_check_seconds: float = Field(default=30.0, gt=0)  # how often due feeds are looked for
    # A running job whose heartbeat is older than this lost its worker (kill -9, a crash)
    # and is run again by another; heartbeats come four times as often.
    job_stale_after: float = Field(default=60.0, gt=0)

    # CVE context (`secdigest enrich update`): CISA's KEV catalog and FIRST's daily EPSS
    # scores at their public addresses; a mirror may be named instead (fetched through
    # the same guard as articles).
    kev_url: str = (
        "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
    )
    # FIRST's address of the current file (it redirects to the dated one; EPSS is run for
    # FIRST by Empirical Security, formerly Cyentia).
    epss_url: str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
    # Off by default: the service is offline first and reaches CISA and FIRST only when
    # asked (here, or by `secdigest enrich update`). When on, the processes that run
    # schedules (the server with the in-process queue, each `secdigest worker`) update
    # the sources once per interval, each update claimed by one of them.
    enrich_schedule: bool = False
    enrich_interval: int = Field(default=24 * 3600, ge=3600)  # seconds between updates
    # Each source's download and, for EPSS, its decompressed CSV: the EPSS file is about
    # 2 MB gzip and 10 MB of CSV (300k CVEs, growing), past the article limit's reach
    # if that is lowered; this bound is its own, with room for years of growth.
    enrich_max_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # A whole download (redirects included): a catalog is larger than a page.
    enrich_timeout: float = Field(default=120.0, gt=0)

    # Rendered days kept in each process (bytes); and where they are shared between
    # processes: unset, the Redis of SECDIGEST_BROKER_URL when it is one; "none" keeps
    # them in process only.
    cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    cache_url: str | None = None

    # How many processes `secdigest serve --workers N` runs (it sets this for them): with
    # more than one, jobs left running are resumed only once their heartbeat is stale
    # (another process may be running them), and each process looks for such jobs.
    web_workers: int = Field(default=1, ge=1)

    # Exports (STIX, TAXII, MISP): who produced them, and the TLP marking of every object.
    producer_name: str = "secdigest"
    tlp: Literal["clear", "green", "amber", "amber+strict", "red"] = "clear"

    # Delivery (docs/delivery.md). Publishing on schedule: "HH:MM" in SECDIGEST_TIMEZONE,
    # unset: only when asked. Which day: a morning digest is yesterday's news (today's
    # report has barely begun at 08:30); "today" for an evening digest.
    publish_at: str | None = None
    publish_day: Literal["yesterday", "today"] = "yesterday"
    # Where the service is reached from outside: the links of webhooks, Slack and mail
    # (unset: no link to the report's page, the sources only).
    public_url: str | None = None
    # Seconds between the attempts of a webhook delivery after a failure (timeouts, 429,
    # 5xx): the Standard Webhooks schedule, about a day in all; a webhook still failing a
    # day after its first failure is disabled. Each delay gets up to 10% of jitter.
    webhook_retry_delays: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 60.0, 300.0, 1800.0, 7200.0, 21600.0, 43200.0]
    )
    # One attempt, connection to last byte: a receiver should answer at once and work later.
    webhook_timeout: float = Field(default=10.0, gt=0)
    # How often the processes that run schedules look for due deliveries and publishes.
    delivery_check_seconds: float = Field(default=5.0, gt=0)
    # E-mail on publish: smtp://user:password@host:587 (STARTTLS) or smtps://...:465;
    # unset, or no recipient: no mail.
    smtp_url: str | None = None
    mail_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    mail_from: str = "secdigest@localhost"

    # Browser origins of a frontend served elsewhere (`https://digest.example.org`), exact
    # and comma-separated: unset, no CORS at all. Never `*`: the browser sends the key.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    log_level: str = "INFO"

    @field_validator(
        "fetch_allow",
        "ioc_benign",
        "fetch_ports",
        "webhook_retry_delays",
        "mail_to",
        "cors_origins",
        mode="before",
    )
    @classmethod
    def _split_comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("publish_at")
    @classmethod
    def _clock_time(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(f"{value!r}: expected HH:MM, e.g. 08:30")
        if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
            raise ValueError(f"{value!r}: not a time of day")
        return f"{int(hours):02d}:{minutes}"

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, value: list[str]) -> list[str]:
        origins = []
        for origin in value:
            if "*" in origin:
                raise ValueError(
                    f"{origin!r}: name each origin exactly (https://digest.example.org); "
                    "a wildcard would let any site's page call the API with the key it holds"
                )
            scheme, separator, authority = origin.partition("://")
            if scheme.lower() not in ("http", "https") or not separator or not authority:
                raise ValueError(f"{origin!r}: expected an origin, e.g. https://digest.example.org")
            if "/" in authority.rstrip("/"):
                raise ValueError(f"{origin!r}: an origin has no path, e.g. https://example.org")
            origins.append(f"{scheme.lower()}://{authority.rstrip('/').lower()}")
        return origins

    @field_validator("webhook_retry_delays")
    @classmethod
    def _positive_delays(cls, value: list[float]) -> list[float]:
        if not value or any(delay <= 0 for delay in value):
            raise ValueError("expected seconds > 0, e.g. 5,60,300")
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The zone that decides which day's report an article belongs to."""
        return ZoneInfo(self.timezone)

    @property
    def effective_llm_api_key(self) -> str | None:
        """SECDIGEST_LLM_API_KEY, else OPENAI_API_KEY as the contract says."""
        return self.llm_api_key or os.environ.get("OPENAI_API_KEY") or None

    @property
    def shared_cache_url(self) -> str | None:
        """The Redis that processes share rendered days through, if any."""
        if self.cache_url is not None:
            return None if self.cache_url.lower() == "none" else self.cache_url
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @property
    def llm_configured(self) -> bool:
        """Whether a model is configured; without one the offline engine is used."""
        return bool(self.llm_base_url or self.effective_llm_api_key)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own Settings instead."""
    return Settings()
