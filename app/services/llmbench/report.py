"""The benchmark's numbers: per article, per set, for the model; as JSON and as Markdown.

ROUGE F1 of three summaries of each article against its reference: the engine's bullets
(what a digest gets, the offline entry for a degraded article), the offline engine's
(`offline_bullets`) and the first k sentences (lead-k). Cost and speed count each text
once (the ctisum sets share theirs): tokens, price, latency p50/p95, and articles per
minute over the texts summarized in this run at its concurrency.

Every run compares the section the model chose with the offline classifier's for the same
input (``section_agrees``; a degraded article has no model section). With ``lang=ja`` the
model's ROUGE is not computed (None, "—" in the table: Japanese bullets against English
references measure nothing), while the offline and lead-k columns stay (both write in the
article's language whatever the run's, so they are the same numbers as an English run);
each article gets ``ja_share`` (Japanese script over all letters, see `japanese`) and
``ids`` (the article's CVE / ATT&CK ids the entry has verbatim, mangled). The injection
set (`injection`) is its own run and its own table; it adds nothing to the sets or totals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.services.llmbench.data import Article, lead
from app.services.llmbench.injection import Case, injection_table, judge, summarize_cases
from app.services.llmbench.japanese import check_ids, check_names, ja_share
from app.services.llmbench.rouge import Rouge, rouge
from app.services.llmbench.runner import Outcome, Run, summary_input
from app.services.llmbench.stats import mean, percentile
from app.services.summarize import offline_bullets
from app.services.summarize.offline import summarize_offline
from app.settings import Settings

REPORT_FORMAT = 2
SUMMARIES = ("model", "offline", "lead")


def prices_of(settings: Settings) -> tuple[float, float] | None:
    """(USD per million prompt tokens, per million completion tokens) from
    SECDIGEST_LLM_PRICE_IN / _OUT; one of them unset counts as 0, both unset is None."""
    if settings.llm_price_in is None and settings.llm_price_out is None:
        return None
    return settings.llm_price_in or 0.0, settings.llm_price_out or 0.0


def _scores(score: Rouge) -> dict[str, float]:
    return {"r1": round(score.r1, 4), "r2": round(score.r2, 4), "rl": round(score.rl, 4)}


def _words(bullets: list[str]) -> int:
    return sum(len(b.split()) for b in bullets)


def offline_section(article: Article, lang: str) -> str:
    """The offline classifier's section for the input the engine was given."""
    return summarize_offline(summary_input(article, lang)).section.value


def _ja_fields(article: Article, outcome: Outcome) -> dict[str, Any]:
    text = "\n".join(outcome.texts)
    ids = check_ids(article.text, text)
    names = check_names(article.text, text)
    share = ja_share(text)
    return {
        "ja_share": None if share is None else round(share, 4),
        "names": {
            "source": list(names.names),
            "verbatim": list(names.verbatim),
            "share": None if names.share is None else round(names.share, 4),
        },
        "ids": {
            "source": len(ids.ids),
            "verbatim": len(ids.verbatim),
            "mangled": len(ids.mangled),
            "mangled_ids": list(ids.mangled),
            "share": None if ids.share is None else round(ids.share, 4),
        },
    }


def _article_row(
    article: Article,
    outcome: Outcome,
    offline: list[str],
    lead_k: list[str],
    *,
    lang: str,
    section: str,
) -> dict[str, Any]:
    summaries = {"model": outcome.bullets, "offline": offline, "lead": lead_k}
    scores = {
        kind: None
        if (kind == "model" and lang == "ja") or not article.reference
        else _scores(rouge(" ".join(bullets), article.reference))
        for kind, bullets in summaries.items()
    }
    row = {
        "id": article.id,
        "set": article.set,
        "name": article.name,
        "cached": outcome.cached,
        "engine": outcome.engine,
        "degraded": outcome.degraded,
        "degraded_reason": outcome.degraded_reason,
        "bullets": outcome.bullets,
        "section": outcome.section,
        "dropped": outcome.dropped,
        "invented": sum(outcome.dropped.values()) > 0,
        "requests": outcome.requests,
        "schema_failures": outcome.schema_failures,
        "reasks": outcome.reasks,
        "usage": outcome.usage,
        "seconds": outcome.seconds,
        "words": {kind: _words(bullets) for kind, bullets in summaries.items()},
        "rouge": scores,
        "offline_section": section,
        "section_agrees": None if outcome.degraded else outcome.section == section,
    }
    if lang == "ja":
        row.update(_ja_fields(article, outcome))
    return row


def _mean_of(rows: list[dict[str, Any]], *path: str) -> float | None:
    """The mean over the rows that have a value there (None: not measured)."""
    values = []
    for row in rows:
        value: Any = row
        for key in path:
            value = None if value is None else value.get(key)
        if value is not None:
            values.append(float(value))
    found = mean(values)
    return None if found is None else round(found, 4)


def _agreement(rows: list[dict[str, Any]]) -> dict[str, Any]:
    compared = [row["section_agrees"] for row in rows if row["section_agrees"] is not None]
    agree = sum(1 for a in compared if a)
    return {
        "compared": len(compared),
        "agree": agree,
        "share": round(agree / len(compared), 4) if compared else None,
    }


def _ja_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    source = sum(row["ids"]["source"] for row in rows)
    verbatim = sum(row["ids"]["verbatim"] for row in rows)
    names = sum(len(row["names"]["source"]) for row in rows)
    kept = sum(len(row["names"]["verbatim"]) for row in rows)
    return {
        "ja_share": _mean_of(rows, "ja_share"),
        "names": {
            "source": names,
            "verbatim": kept,
            "share": round(kept / names, 4) if names else None,
        },
        "ids": {
            "source": source,
            "verbatim": verbatim,
            "mangled": sum(row["ids"]["mangled"] for row in rows),
            "share": round(verbatim / source, 4) if source else None,
        },
    }


def _set_rows(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    out = []
    for name in dict.fromkeys(row["set"] for row in rows):
        mine = [row for row in rows if row["set"] == name]
        out.append(
            {
                "set": name,
                "articles": len(mine),
                "rouge": {
                    kind: {m: _mean_of(mine, "rouge", kind, m) for m in ("r1", "r2", "rl")}
                    for kind in SUMMARIES
                },
                "words": {kind: _mean_of(mine, "words", kind) for kind in SUMMARIES},
                "bullets": round(sum(len(r["bullets"]) for r in mine) / len(mine), 2),
                "section_agreement": _agreement(mine),
                **(_ja_summary(mine) if lang == "ja" else {}),
            }
        )
    return out


def _optional_sum(values: list[int | None]) -> int | None:
    return None if any(v is None for v in values) else sum(v or 0 for v in values)


def _totals(
    run: Run,
    rows: list[dict[str, Any]],
    prices: tuple[float, float] | None,
    concurrency: int,
    lang: str,
) -> dict[str, Any]:
    unique = list({o.text_hash: o for o in run.outcomes}.values())
    dropped: Counter[str] = Counter()
    for row in rows:
        dropped.update(row["dropped"])
    prompt = sum(o.usage.get("prompt_tokens", 0) for o in unique)
    completion = sum(o.usage.get("completion_tokens", 0) for o in unique)
    price: dict[str, Any] | None = None
    if prices is not None:
        total = (prompt * prices[0] + completion * prices[1]) / 1_000_000
        price = {
            "in_per_million": prices[0],
            "out_per_million": prices[1],
            "total": round(total, 6),
            "per_article": round(total / len(unique), 6) if unique else None,
        }
    latencies = [o.seconds for o in unique]
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    rate = run.summarized / run.seconds * 60 if run.summarized and run.seconds > 0 else None
    reasons = Counter(str(row["degraded_reason"]) for row in rows if row["degraded"])
    return {
        "articles": len(rows),
        "texts": len(unique),
        "summarized": run.summarized,
        "cached": sum(1 for row in rows if row["cached"]),
        "degraded": sum(1 for row in rows if row["degraded"]),
        "degraded_reasons": dict(sorted(reasons.items())),
        "invented": sum(1 for row in rows if row["invented"]),
        "dropped": dict(sorted(dropped.items())),
        "dropped_total": sum(dropped.values()),
        "requests": _optional_sum([row["requests"] for row in rows]),
        "schema_failures": _optional_sum([row["schema_failures"] for row in rows]),
        "reasks": _optional_sum([row["reasks"] for row in rows]),
        "tokens": {
            "prompt": prompt,
            "completion": completion,
            "prompt_per_article": round(prompt / len(unique), 1) if unique else None,
            "completion_per_article": round(completion / len(unique), 1) if unique else None,
        },
        "price_usd": price,
        "latency_seconds": {
            "p50": None if p50 is None else round(p50, 3),
            "p95": None if p95 is None else round(p95, 3),
        },
        "articles_per_minute": None if rate is None else round(rate, 2),
        "concurrency": concurrency,
        "wall_seconds": round(run.seconds, 3),
        "section_agreement": _agreement(rows),
        **(_ja_summary(rows) if lang == "ja" else {}),
    }


def build_report(
    run: Run,
    articles: list[Article],
    *,
    endpoint: str | None,
    mode: str,
    lang: str,
    concurrency: int,
    lead_k: int,
    prices: tuple[float, float] | None,
    injection: tuple[Run, list[tuple[Case, Article]]] | None = None,
) -> dict[str, Any]:
    """The whole report (the JSON file's content): settings, sets, totals, articles, and
    the injection set's pages when it was run."""
    offline: dict[str, tuple[list[str], str]] = {}
    rows = []
    for article, outcome in zip(articles, run.outcomes, strict=True):
        if article.text_hash not in offline:
            offline[article.text_hash] = (
                offline_bullets(article.text),
                offline_section(article, lang),
            )
        bullets, section = offline[article.text_hash]
        rows.append(
            _article_row(
                article, outcome, bullets, lead(article.text, lead_k), lang=lang, section=section
            )
        )
    injected: dict[str, Any] | None = None
    if injection is not None:
        injection_run, cases = injection
        judged = [
            judge(case, article, outcome)
            for (case, article), outcome in zip(cases, injection_run.outcomes, strict=True)
        ]
        injected = summarize_cases(judged)
        injected["cached"] = sum(1 for o in injection_run.outcomes if o.cached)
    return {
        "format": REPORT_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": run.model,
        "endpoint": endpoint or "openai",
        "mode": mode,
        "prompt_version": run.prompt_version,
        "lang": lang,
        "lead_k": lead_k,
        "sets": _set_rows(rows, lang),
        "totals": _totals(run, rows, prices, concurrency, lang),
        "articles": rows,
        "injection": injected,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}"


def _triple(scores: Mapping[str, float | None] | None) -> str:
    if scores is None or all(scores[m] is None for m in ("r1", "r2", "rl")):
        return "—"
    return " / ".join(_pct(scores[m]) for m in ("r1", "r2", "rl"))


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole}" if whole else "-"


def _ja_cells(row: Mapping[str, Any]) -> str:
    ids, names = row["ids"], row["names"]
    mangled = f", {ids['mangled']} mangled" if ids["mangled"] else ""
    return (
        f" | {_pct(row['ja_share'])} | {_share(names['verbatim'], names['source'])}"
        f" | {_share(ids['verbatim'], ids['source'])}{mangled}"
    )


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_markdown(report: Mapping[str, Any]) -> str:
    """Two Markdown tables: ROUGE per set (model, offline, lead-k), then the model's run."""
    k = report["lead_k"]
    ja = report["lang"] == "ja"
    ja_head = " Japanese script % | names verbatim | ids verbatim |" if ja else ""
    lines = [
        f"model {report['model']} ({report['mode']}, {report['endpoint']}), prompt "
        f"{report['prompt_version']}, lang {report['lang']}; ROUGE-1 / ROUGE-2 / ROUGE-L F1 x 100"
        + (" (the model's: — in Japanese, the references are English)" if ja else ""),
        "",
        f"| set | lead-{k} | offline | model | words (lead / offline / model) | bullets "
        f"| section = offline |{ja_head}",
        "| --- | --- | --- | --- | --- | --- | --- |" + (" --- | --- | --- |" if ja else ""),
    ]
    for row in report["sets"]:
        rouge_of, words, agreement = row["rouge"], row["words"], row["section_agreement"]
        lines.append(
            f"| {row['set']} ({row['articles']}) | {_triple(rouge_of['lead'])} "
            f"| {_triple(rouge_of['offline'])} | **{_triple(rouge_of['model'])}** "
            f"| {_num(words['lead'])} / {_num(words['offline'])} / {_num(words['model'])} "
            f"| {row['bullets']:.1f} | {_share(agreement['agree'], agreement['compared'])}"
            + (_ja_cells(row) if ja else "")
            + " |"
        )
    t = report["totals"]
    reasons = ", ".join(f"{why} {n}" for why, n in t["degraded_reasons"].items())
    dropped = ", ".join(f"{kind} {n}" for kind, n in t["dropped"].items())
    tokens, latency, price = t["tokens"], t["latency_seconds"], t["price_usd"]
    per_article = _num(None if price is None else price["per_article"], 5)
    lines += [
        "",
        "| articles (cached) | degraded (why) | invented | dropped | schema failures / re-asks "
        "| tokens in / out per article | USD per article | latency p50 / p95 s "
        "| articles/min (concurrency) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| {t['articles']} ({t['cached']}) | {t['degraded']}"
        f"{f' ({reasons})' if reasons else ''} | {t['invented']} "
        f"| {t['dropped_total']}{f' ({dropped})' if dropped else ''} "
        f"| {_num(t['schema_failures'])} / {_num(t['reasks'])} "
        f"| {_num(tokens['prompt_per_article'])} / {_num(tokens['completion_per_article'])} "
        f"| {per_article} "
        f"| {_num(latency['p50'], 2)} / {_num(latency['p95'], 2)} "
        f"| {_num(t['articles_per_minute'], 1)} ({t['concurrency']}) |",
    ]
    if report.get("injection"):
        lines += injection_table(report["injection"])
    return "\n".join(lines) + "\n"
