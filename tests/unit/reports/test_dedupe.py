"""Dedupe: the near-duplicate threshold on the fixture pairs, canonical trust, merged sources."""

from __future__ import annotations

import json
from datetime import date

import pytest

from app.schemas.reports import report_item_read
from app.services.markdown import labels_for, parse_report, render_report
from app.services.reports.dedupe import (
    MAX_TOKENS,
    NEAR_DUPLICATE,
    accepted_canonical,
    near_duplicate,
    same_site,
    similarity,
    story_tokens,
)
from app.services.reports.document import DocumentItem, DocumentSource, ItemKind, ReportDocument
from app.services.reports.sections import Section
from tests.support.paths import FIXTURES

DEDUPE_FIXTURES = FIXTURES / "dedupe"
PAIRS = json.loads((DEDUPE_FIXTURES / "pairs.json").read_text(encoding="utf-8"))


def _body(name: str) -> str:
    # Title line, blank line, body: the pipeline compares bodies (headlines are Title Case).
    return (
        (DEDUPE_FIXTURES / "articles" / f"{name}.txt").read_text(encoding="utf-8").split("\n", 2)[2]
    )


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p['a']}~{p['b']}" for p in PAIRS])
def test_fixture_pairs_fall_on_their_side_of_the_threshold(pair: dict[str, object]) -> None:
    first, second = story_tokens(_body(str(pair["a"]))), story_tokens(_body(str(pair["b"])))

    score = similarity(first, second)

    if pair["same"]:
        assert score >= NEAR_DUPLICATE, score
        assert near_duplicate(first, second)
    else:
        assert score < NEAR_DUPLICATE, score
        assert not near_duplicate(first, second)


def test_fixture_set_has_japanese_pairs_and_hard_negatives() -> None:
    assert sum(1 for p in PAIRS if p["same"]) >= 6
    assert sum(1 for p in PAIRS if not p["same"]) >= 6
    assert any(p["same"] and str(p["a"]).startswith("ja-") for p in PAIRS)


def test_tokens_are_names_numbers_and_identifiers_not_sentence_openers() -> None:
    tokens = set(
        story_tokens(
            "Attackers exploited CVE-2026-21877 in Veritek SecureGate. Meridian Mobile said "
            "8,200 customers of Akira's victims were hit. The police arrested him."
        )
    )

    assert {"cve-2026-21877", "veritek", "securegate", "meridian", "mobile", "8200"} <= tokens
    assert "akira" in tokens  # possessive dropped
    assert not {"attackers", "the", "police", "customers"} & tokens


def test_japanese_tokens_are_katakana_kanji_runs_and_counted_numbers() -> None:
    tokens = set(
        story_tokens("北浜精機は12月3日、ランサムウェアの被害で3,412件が流出したと発表した。")
    )

    assert {"北浜精機", "ランサムウェア", "12月", "3日", "3412件"} <= tokens
    assert not any(t.startswith("は") for t in tokens)


def test_similarity_is_exact_jaccard_and_bounded_past_the_cap() -> None:
    assert similarity(["a1", "b2", "c3"], ["a1", "b2", "d4"]) == pytest.approx(0.5)
    assert similarity([], ["a1"]) == 0.0
    many = [f"id{n}" for n in range(5000)]
    tokens = story_tokens(" ".join(many))

    assert len(tokens) == MAX_TOKENS
    assert similarity(tokens, tokens) == 1.0


def test_too_few_tokens_never_merge() -> None:
    assert not near_duplicate(["cve-2026-1", "acme"], ["cve-2026-1", "acme"])


@pytest.mark.parametrize(
    ("declared", "final", "accepted"),
    [
        ("/2026/12/story/", "https://news.example.com/2026/12/story/amp/", None),  # relative
        (
            "https://www.example.co.uk/story?utm_source=x",
            "https://amp.example.co.uk/story/amp/",
            "https://www.example.co.uk/story",
        ),
        ("https://www.bleepingcomputer.com/news/x/", "https://evil.example/x", None),
        ("https://victim.github.io/post", "https://attacker.github.io/post", None),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/b", "http://127.0.0.1:8001/a"),
        ("http://127.0.0.1:8002/a", "http://127.0.0.1:8001/b", None),
        ("javascript:alert(1)", "https://news.example.com/a", None),
        (None, "https://news.example.com/a", None),
    ],
)
def test_a_page_speaks_only_for_urls_of_its_own_site(
    declared: str | None, final: str, accepted: str | None
) -> None:
    assert accepted_canonical(declared, final_url=final) == accepted


def test_subdomains_of_one_registrable_domain_are_one_site() -> None:
    assert same_site("https://amp.theguardian.com/a", "https://www.theguardian.com/b")
    assert not same_site("https://example.co.uk/", "https://other.co.uk/")


def _merged_entry() -> DocumentItem:
    return DocumentItem(
        kind=ItemKind.ARTICLE,
        section=Section.DAILY_NEWS,
        title="Akira claims attack on Halvorsen Helse",
        url="https://news-a.example/halvorsen",
        summary=["Ambulances were diverted."],
        sources=[
            DocumentSource(url="https://news-b.example/akira-halvorsen", title="Akira claims"),
            DocumentSource(url="https://news-c.example/2026/12/bergen-clinics/"),
        ],
    )


def test_every_source_of_an_entry_is_a_line_under_its_title_and_reads_back() -> None:
    digest = ReportDocument(day=date(2026, 12, 2), items=[_merged_entry()])

    markdown = render_report(digest, labels_for("ja"))
    parsed = parse_report(markdown, day=digest.day)

    assert (
        "#### Akira claims attack on Halvorsen Helse\n"
        "https://news-a.example/halvorsen\n"
        "https://news-b.example/akira-halvorsen\n"
        "https://news-c.example/2026/12/bergen-clinics/\n\n- 要約\n"
    ) in markdown
    (entry,) = parsed.items
    assert entry.url == "https://news-a.example/halvorsen"
    assert [s.url for s in entry.sources] == [s.url for s in _merged_entry().sources]
    assert render_report(parsed, labels_for("ja")) == markdown


def test_json_lists_the_entry_url_first_then_the_merged_sources() -> None:
    shown = report_item_read(_merged_entry())

    assert [(s.title, s.url) for s in shown.sources] == [
        ("Akira claims attack on Halvorsen Helse", "https://news-a.example/halvorsen"),
        ("Akira claims", "https://news-b.example/akira-halvorsen"),
        (None, "https://news-c.example/2026/12/bergen-clinics/"),
    ]
