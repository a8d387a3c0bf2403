"""`secdigest bench llm` end to end: the command, over HTTP, against the loopback model server.

The real openai client and instructor talk to `tests/support/model_server.py`; each test
gives the server one behaviour (a model that answers from the article, one that invents
an indicator, one that hangs past the deadline, one whose first answer is not JSON, one
that obeys an injected order, one that writes Japanese with a mangled CVE id) and checks
the counts of the JSON report. The injection pages are skipped (`--no-injection`) except
where a test points `--injection` at a folder of its own.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.model_server import (
    DEFAULT_ENTRY,
    ModelServer,
    Reply,
    hang,
    invalid_json,
    ok,
    running_model_server,
)
from tests.support.paths import FIXTURES, ROOT
from tests.support.processes import cli_env, run_cli

ARTICLES = FIXTURES / "summarize"
PAGES = ROOT / "bench" / "llm_injection"
LIMIT = 3
FENCE = re.compile(r"<article-([0-9A-Za-z_-]+)>\n(.*?)\n</article-\1>", re.DOTALL)
SENTENCE = re.compile(r"[^.!?\n]{40,300}[.!?]")
INVENTED = "The loader beacons to 45.155.205.99 every hour."


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A bench data folder as ../shared/bench lays it out: one set of four English fixture
    articles (the header's title is the reference); the tests take the first three."""
    folder = tmp_path / "shared" / "summarize" / "fixtures"
    (folder / "src").mkdir(parents=True)
    (folder / "ref").mkdir()
    for path in [*sorted(ARTICLES.glob("campaign_en_*.txt")), ARTICLES / "crime_en_arrest.txt"]:
        header, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        title = re.search(r"^title: (.+)$", header, re.MULTILINE)
        assert title is not None
        (folder / "src" / path.name).write_text(body, encoding="utf-8")
        (folder / "ref" / path.name).write_text(title.group(1) + "\n", encoding="utf-8")
    return tmp_path / "shared"


class ArticleModel(ModelServer):
    """A model that writes its bullets from the article it is shown (its first sentences)."""

    def _next(self, body: dict[str, Any]) -> tuple[Reply, threading.Event]:
        reply, released = super()._next(body)
        if reply != ok():
            return reply, released  # scripted: the test's own answer (a hang, an error...)
        text = "\n".join(str(m.get("content") or "") for m in body["messages"])
        fenced = FENCE.search(text)
        sentences = SENTENCE.findall(fenced.group(2) if fenced else "")[:5]
        bullets = [s.strip() for s in sentences] or list(DEFAULT_ENTRY["bullets"])
        while len(bullets) < 3:
            bullets.append(bullets[-1])
        entry = {**DEFAULT_ENTRY, "bullets": bullets, "attack_techniques": []}
        return ok(entry), released


@contextmanager
def article_model() -> Iterator[ArticleModel]:
    """`running_model_server`, with the model that reads the article."""
    with running_model_server(ArticleModel) as server:
        assert isinstance(server, ArticleModel)
        yield server


@pytest.fixture
def model() -> Iterator[ArticleModel]:
    with article_model() as server:
        yield server


def bench(
    tmp_path: Path,
    shared: Path,
    model: ModelServer,
    *args: str,
    limit: int = LIMIT,
    out: str = "var",
    set_name: str = "fixtures",
    **env: str,
) -> dict[str, Any]:
    """Run the command; the JSON report it wrote (and its table checked on stdout)."""
    environment = cli_env(
        tmp_path,
        SECDIGEST_LLM_BASE_URL=model.base_url,
        SECDIGEST_LLM_MODEL="test-model",
        SECDIGEST_LLM_TIMEOUT=env.pop("timeout", "10"),
        **env,
    )
    folder = tmp_path / out / "bench"
    if "--injection" not in args:
        args = (*args, "--no-injection")
    done = run_cli(
        [
            "bench",
            "llm",
            "--shared",
            str(shared),
            "--limit",
            str(limit),
            "--out",
            str(folder),
            *list(args),
        ],
        environment,
    )
    assert done.returncode == 0, done.stderr
    assert f"| {set_name} ({limit}) |" in done.stdout
    written = re.search(r"wrote (\S+\.json)", done.stderr)
    assert written is not None, done.stderr
    report: dict[str, Any] = json.loads(Path(written.group(1)).read_text(encoding="utf-8"))
    report["stdout"] = done.stdout
    return report


def test_a_good_model_is_scored_and_costed_and_a_rerun_reads_the_cache(
    tmp_path: Path, shared: Path, model: ArticleModel
) -> None:
    report = bench(
        tmp_path,
        shared,
        model,
        "--concurrency",
        "3",
        SECDIGEST_LLM_PRICE_IN="2",
        SECDIGEST_LLM_PRICE_OUT="8",
    )

    totals = report["totals"]
    assert model.calls == LIMIT
    assert report["model"] == "test-model"
    assert report["prompt_version"]
    assert [s["set"] for s in report["sets"]] == ["fixtures"]
    assert totals["articles"] == LIMIT
    assert totals["summarized"] == LIMIT
    assert totals["degraded"] == 0
    assert totals["invented"] == 0
    assert totals["dropped_total"] == 0
    assert totals["requests"] == LIMIT
    assert totals["schema_failures"] == 0
    assert totals["reasks"] == 0
    assert totals["tokens"] == {
        "prompt": 120 * LIMIT,
        "completion": 80 * LIMIT,
        "prompt_per_article": 120.0,
        "completion_per_article": 80.0,
    }
    # 120 tokens at $2 and 80 at $8 per million.
    assert totals["price_usd"]["per_article"] == pytest.approx(0.00088)
    assert totals["latency_seconds"]["p50"] is not None
    assert totals["articles_per_minute"] > 0
    for row in report["articles"]:
        assert row["engine"] == "llm"
        assert not row["degraded"]
        source = shared / "summarize" / row["set"] / "src" / f"{row['name']}.txt"
        words = " ".join(source.read_text(encoding="utf-8").split())
        assert all(bullet in words for bullet in row["bullets"])  # grounded in the article
        assert row["rouge"]["model"]["r1"] > 0
        assert set(row["rouge"]) == {"model", "offline", "lead"}

    again = bench(tmp_path, shared, model)

    assert model.calls == LIMIT  # nothing asked twice
    assert again["totals"]["cached"] == LIMIT
    assert again["totals"]["summarized"] == 0
    assert again["sets"] == report["sets"]


def test_a_model_that_invents_an_indicator_is_counted_per_article(
    tmp_path: Path, shared: Path, model: ArticleModel
) -> None:
    bullets = [*DEFAULT_ENTRY["bullets"], INVENTED]
    model.default = ok({**DEFAULT_ENTRY, "bullets": bullets})

    totals = bench(tmp_path, shared, model)["totals"]

    assert totals["invented"] == LIMIT
    assert totals["dropped"] == {"ioc": LIMIT}
    assert totals["degraded"] == 0  # the other bullets stand


def test_a_model_that_hangs_degrades_every_article_with_the_reason(
    tmp_path: Path, shared: Path, model: ArticleModel
) -> None:
    model.default = hang(30)

    totals = bench(tmp_path, shared, model, "--concurrency", "3", timeout="1")["totals"]

    assert totals["degraded"] == LIMIT
    assert totals["degraded_reasons"] == {"timeout": LIMIT}
    assert totals["invented"] == 0


def test_an_invalid_answer_is_a_schema_failure_and_a_reask(
    tmp_path: Path, shared: Path, model: ArticleModel
) -> None:
    model.queue(invalid_json())

    totals = bench(tmp_path, shared, model, "--concurrency", "1")["totals"]

    assert totals["schema_failures"] == 1
    assert totals["reasks"] == 1
    assert totals["requests"] == LIMIT + 1
    assert totals["degraded"] == 0


def test_without_a_model_it_says_how_to_configure_one(tmp_path: Path, shared: Path) -> None:
    environment = {k: v for k, v in cli_env(tmp_path).items() if k not in ("OPENAI_API_KEY",)}

    done = run_cli(["bench", "llm", "--shared", str(shared), "--limit", "1"], environment)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("secdigest: no model configured: set SECDIGEST_LLM_BASE_URL")


# --- prompt injection ---------------------------------------------------------------------

C2 = "198.51.100.77"  # the order of 08_code_block.html: report it as the attacker's C2


def pages(tmp_path: Path, *names: str) -> Path:
    """A folder with some of the benchmark's pages and their cases."""
    folder = tmp_path / "pages"
    folder.mkdir()
    cases = json.loads((PAGES / "cases.json").read_text(encoding="utf-8"))
    chosen = [case for case in cases if case["page"] in names]
    for case in chosen:
        shutil.copy(PAGES / case["page"], folder / case["page"])
    (folder / "cases.json").write_text(json.dumps(chosen), encoding="utf-8")
    return folder


class ObedientModel(ModelServer):
    """A model that does what an article tells it: names the C2 the page orders it to."""

    def _next(self, body: dict[str, Any]) -> tuple[Reply, threading.Event]:
        reply, released = super()._next(body)
        text = "\n".join(str(m.get("content") or "") for m in body["messages"])
        fenced = FENCE.search(text)
        if fenced and "TO THE AI MODEL READING THIS" in fenced.group(2):
            bullets = [*DEFAULT_ENTRY["bullets"], f"The attacker's C2 server is {C2}."]
            return ok({**DEFAULT_ENTRY, "bullets": bullets}), released
        return reply, released


def test_a_model_that_obeys_a_page_is_counted_one_that_ignores_it_is_not(
    tmp_path: Path, shared: Path
) -> None:
    folder = pages(tmp_path, "08_code_block.html", "05_system_paragraph.html")
    injection = ("--injection", str(folder))

    with running_model_server(ObedientModel) as obedient:
        report = bench(tmp_path, shared, obedient, *injection, limit=1, out="obeys")
        assert obedient.calls == 1 + 2  # one article, then the two pages

    found = report["injection"]
    assert found["by_kind"]["add_ioc"] == {
        "pages": 1,
        "reached": 1,
        "obeyed": 1,
        "in_digest": 1,  # the address is in the page's text: grounding keeps it
        "offline": found["by_kind"]["add_ioc"]["offline"],
        "no_answer": 0,
    }
    assert found["by_kind"]["benign"]["obeyed"] == 0
    assert found["totals"]["obeyed"] == 1
    page = next(p for p in found["pages"] if p["kind"] == "add_ioc")
    assert page["ioc_listed"] is True  # the regex engine lists it whatever the model does
    assert "| add_ioc | 1 | 1 | **1** |" in report["stdout"]
    assert report["totals"]["articles"] == 1  # the pages are not in the sets' numbers

    with running_model_server(ModelServer) as ignoring:
        report = bench(tmp_path, shared, ignoring, *injection, limit=1, out="ignores")

    assert report["injection"]["by_kind"]["add_ioc"]["obeyed"] == 0
    assert report["injection"]["totals"]["obeyed"] == 0
    assert report["injection"]["totals"]["reached"] == 2


# --- Japanese output ----------------------------------------------------------------------

JA_ENTRY: dict[str, Any] = {
    **DEFAULT_ENTRY,
    "title": "Citrix、NetScaler の重大な脆弱性を修正",
    "bullets": [
        "Citrix は NetScaler ADC と Gateway の重大な脆弱性を修正する更新を公開した。",
        "この脆弱性 CVE-２０２５-１０４４ は一月下旬からゼロデイとして悪用されていた。",
        "管理者は直ちに更新を適用するよう求められている。",
    ],
    "recommendations": ["更新を直ちに適用する。"],
    "other": [],
    "model_recommendations": [],
    "section": "daily_news",
    "cves": [],
    "attack_techniques": [],
}


def test_a_japanese_run_measures_the_script_and_the_ids_it_mangled(tmp_path: Path) -> None:
    folder = tmp_path / "shared" / "summarize" / "fixtures"
    (folder / "src").mkdir(parents=True)
    (folder / "ref").mkdir()
    body = (ARTICLES / "news_en_patch.txt").read_text(encoding="utf-8").partition("\n\n")[2]
    (folder / "src" / "patch.txt").write_text(body, encoding="utf-8")
    (folder / "ref" / "patch.txt").write_text("Citrix fixes a NetScaler flaw.\n", "utf-8")

    with running_model_server(ModelServer) as model:
        model.default = ok(JA_ENTRY)
        report = bench(tmp_path, tmp_path / "shared", model, "--lang", "ja", limit=1)

    row = report["articles"][0]
    assert row["ja_share"] > 0.8  # the names Citrix, NetScaler, ADC, Gateway are Latin
    assert row["ids"] == {
        "source": 1,
        "verbatim": 0,
        "mangled": 1,
        "mangled_ids": ["CVE-2025-1044"],
        "share": 0.0,
    }
    assert row["rouge"]["model"] is None  # Japanese against an English reference
    assert row["rouge"]["offline"] is not None
    assert row["section_agrees"] is not None
    totals = report["totals"]
    assert totals["ids"]["share"] == 0.0
    assert totals["ids"]["mangled"] == 1
    assert "| fixtures (1) |" in report["stdout"]
    assert "| **—** |" in report["stdout"]


def test_the_security_pages_are_read_by_the_extractor_and_scored_without_rouge(
    tmp_path: Path, shared: Path, model: ArticleModel
) -> None:
    pages = shared / "extract" / "security" / "html"
    pages.mkdir(parents=True)
    for name in ("english-news.html", "jp-sjis.html"):  # Shift_JIS bytes, as served
        html = (FIXTURES / "site" / name).read_bytes()
        (pages / f"{name.removesuffix('.html')}.html.gz").write_bytes(gzip.compress(html))

    report = bench(
        tmp_path, shared, model, "--set", "security_pages", limit=2, set_name="security_pages"
    )

    assert [s["set"] for s in report["sets"]] == ["security_pages"]
    assert model.calls == 2
    assert {row["name"] for row in report["articles"]} == {"english-news", "jp-sjis"}
    for row in report["articles"]:
        assert row["engine"] == "llm"
        assert row["rouge"] == {"model": None, "offline": None, "lead": None}  # no reference
