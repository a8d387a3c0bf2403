"""POST /summarize: the request and the article JSON that SOAR playbooks read."""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from app.errors import problem_dict
from app.services.pipeline import ArticleResult, Outcome, Placement, Submission, UrlFailure
from app.services.reports.sections import Section

MAX_URLS = 20


class SummarizeRequest(BaseModel):
    """One of `url`, `urls`, `html` or `text`, and options."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"url": "https://www.example.com/news/new-campaign"},
                {"urls": ["https://a.example/1", "https://b.example/2"], "lang": "en"},
                {"text": "Attackers used evil[.]com ...", "title": "A campaign"},
            ]
        },
    )

    url: str | None = Field(None, max_length=2048, description="The article to summarize.")
    urls: list[str] | None = Field(
        None, min_length=1, max_length=MAX_URLS, description="Several articles, one by one."
    )
    html: str | None = Field(None, description="The page's HTML, when you already have it.")
    text: str | None = Field(None, description="Plain article text (no extraction).")
    title: str | None = Field(None, max_length=1000, description="Title for `text`.")
    lang: Literal["ja", "en"] | None = Field(
        None, description="Language of the digest (default SECDIGEST_LANG)."
    )
    section: Section | None = Field(None, description="Report section (default: by content).")
    date: dt.date | None = Field(
        None, description="Report day (default: today in SECDIGEST_TIMEZONE)."
    )
    force: bool = Field(False, description="Fetch and summarize again even if already known.")
    store: bool = Field(
        True,
        # Never in a job's payload (model_dump): a job always stores, and a worker of the
        # release before, which forbids unknown fields, can still run the job.
        exclude=True,
        description="false: fetch, read and summarize, and store nothing (no article, no "
        "report entry); the answer's `id` and `report` are null. Not with `?async=true`.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [name for name in ("urls", "html", "text") if getattr(self, name) is not None]
        if self.url is not None and self.html is None and self.text is None:
            given.append("url")
        if len(given) != 1:
            raise ValueError("give exactly one of url, urls, html or text")
        return self


class IocRead(BaseModel):
    """An indicator found in the article text (never added by a model)."""

    # IocRead.model_validate(ioc) reads a found Ioc, a stored ArticleIoc or a report's
    # DocumentIoc (which has no raw, was_defanged or offset: they stay null).

    model_config = ConfigDict(from_attributes=True)

    type: str = Field(
        description="ipv4, ipv6, ipv4_cidr, ipv6_cidr, domain, url, email, md5, sha1, sha256, "
        "sha512, cve, attack_technique, asn, bitcoin, ethereum, monero, file_path, "
        "registry_key, ssdeep, tlsh, imphash, ja3, ja3s, ja4, jarm, cwe (docs/iocs.md)"
    )
    value: str = Field(description="Refanged and normalized.")
    defanged: str = Field(description="Safe display form, as the Markdown shows it.")
    raw: str | None = Field(None, description="As written in the source, first occurrence.")
    was_defanged: bool | None = Field(None, description="The source wrote it defanged.")
    offset: int | None = Field(
        None,
        # A stored ArticleIoc has `offset`; a found Ioc calls it `start` (it has an `end`).
        validation_alias=AliasChoices("offset", "start"),
        description="Character offset of its first occurrence.",
    )
    flags: list[str] = Field(
        default_factory=list,
        description="benign, source-site, documentation, private, loopback, link-local, "
        "reserved, onion: real but probably not evidence, or worth knowing (the Markdown digest "
        "omits benign and source-site ones).",
    )


class FoundIocRead(IocRead):
    """An indicator just found in a text (POST /iocs, a fresh POST /summarize)."""

    flag_reasons: dict[str, str] = Field(
        default_factory=dict,
        description="Why a flag was set, for the flags that say: `benign` names its list "
        "(`secdigest list`, `SECDIGEST_IOC_BENIGN`, `MISP warning list: <name>`). Empty for "
        "an article summarized earlier and read back from the store.",
    )


class ReportPlacement(BaseModel):
    """Where the article sits in the daily report."""

    date: dt.date
    item_id: int
    section: Section


class ArticleRead(BaseModel):
    """One summarized article."""

    id: int | None = Field(description="The stored article (null with `store: false`).")
    url: str | None
    final_url: str | None
    canonical_url: str | None
    title: str = Field(description="Title of the digest entry.")
    original_title: str = Field(description="Title as the page gives it.")
    published: str | None = Field(description="Publication time as the page states it.")
    lang: str | None = Field(description="Language of the article.")
    author: str | None
    site_name: str | None
    summary: list[str] = Field(description="Summary bullets.")
    iocs: list[FoundIocRead]
    recommendations: list[str] = Field(description="Recommendations stated in the article.")
    other: list[str] = Field(description="Attribution, actors, victims.")
    model_recommendations: list[str] = Field(description="The model's own recommendations.")
    section: Section
    engine: Literal["offline", "llm"]
    model: str | None
    summary_lang: str = Field(description="Language the summary is written in.")
    degraded: bool = Field(description="The model failed and the offline engine answered.")
    degraded_reason: str | None
    cves: list[str] = Field(description="CVE ids the entry is about (found in the text).")
    attack_techniques: list[str] = Field(description="ATT&CK technique ids (known ids only).")
    usage: dict[str, int] = Field(
        description="Tokens the model used for this summary ({} when no model was called)."
    )
    dropped: dict[str, int] = Field(
        description="Values the model wrote that the text does not support, removed, by kind."
    )
    prompt_version: str | None
    cached: bool = Field(description="Answered from storage: nothing fetched or summarized.")
    summary_reused: bool = Field(
        description="A stored model summary of the same text was reused: no model call."
    )
    report: ReportPlacement | None = Field(
        description="Where the entry sits (null with `store: false`: in no report)."
    )
    created_at: dt.datetime


class SummarizeFailure(BaseModel):
    """A URL of a `urls` batch that failed; the others are still processed."""

    url: str
    problem: dict[str, object]


def article_read(result: ArticleResult) -> ArticleRead:
    """Shape a pipeline result as the public article JSON."""
    article, summary, item = result.article, result.summary, result.item
    return ArticleRead(
        id=article.id,
        url=article.url,
        final_url=article.final_url,
        canonical_url=article.canonical_url,
        title=summary.title or article.title,
        original_title=article.title,
        published=article.published,
        lang=article.lang,
        author=article.author,
        site_name=article.site_name,
        summary=list(summary.bullets),
        iocs=[FoundIocRead.model_validate(ioc) for ioc in article.iocs],
        recommendations=list(summary.recommendations),
        other=list(summary.other),
        model_recommendations=list(summary.model_recommendations),
        section=Section(item.section),
        engine="llm" if summary.engine == "llm" else "offline",
        model=summary.model,
        summary_lang=summary.lang,
        degraded=summary.degraded,
        degraded_reason=summary.degraded_reason,
        cves=list(summary.cves),
        attack_techniques=list(summary.attack_techniques),
        usage={k: int(v) for k, v in summary.usage.items()},
        dropped=dict(summary.dropped),
        prompt_version=summary.prompt_version,
        cached=result.cached,
        summary_reused=result.cached or result.summary_reused,
        report=ReportPlacement(date=result.day, item_id=item.id, section=Section(item.section))
        if result.stored
        else None,
        created_at=article.created_at,
    )


SummarizeResponse = ArticleRead | list[ArticleRead | SummarizeFailure]


def summarize_response(outcome: Outcome) -> SummarizeResponse:
    """The JSON answer for a submission's outcome (one article, or a batch in order)."""
    if isinstance(outcome, list):
        return [
            SummarizeFailure(url=o.url, problem=problem_dict(o.error))
            if isinstance(o, UrlFailure)
            else article_read(o)
            for o in outcome
        ]
    return article_read(outcome)


def submission_of(body: SummarizeRequest, *, default_lang: str, today: dt.date) -> Submission:
    """The pipeline's view of a request body."""
    return Submission(
        placement=Placement(
            day=body.date or today, lang=body.lang or default_lang, section=body.section
        ),
        url=body.url,
        urls=tuple(body.urls) if body.urls is not None else None,
        html=body.html,
        text=body.text,
        title=body.title,
        force=body.force,
        store=body.store,
    )
