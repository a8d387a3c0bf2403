"""Snippets: a window of plain text around the terms, the terms between « and »."""

from __future__ import annotations

from app.services.search import MARK_CLOSE, MARK_OPEN, make_snippet
from app.services.search.snippet import SNIPPET_CHARS


def test_the_terms_are_marked_whatever_their_case() -> None:
    snippet = make_snippet(["Exploits of IVANTI gateways and Ivanti VPNs."], ["ivanti"])

    assert snippet == "Exploits of «IVANTI» gateways and «Ivanti» VPNs."


def test_a_japanese_term_is_marked_inside_a_sentence_without_spaces() -> None:
    snippet = make_snippet(["病院がランサムウェアの被害を受けた。"], ["ランサムウェア"])

    assert snippet == "病院が«ランサムウェア»の被害を受けた。"


def test_the_window_shows_the_most_terms_and_says_where_it_was_cut() -> None:
    text = "Ivanti " + "filler words. " * 30 + "Ivanti gateways hit by ransomware. " + "end " * 60

    snippet = make_snippet([text], ["Ivanti", "ransomware"])

    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert "«Ivanti» gateways hit by «ransomware»." in snippet
    shown = snippet.strip("…").replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
    assert len(shown) <= SNIPPET_CHARS


def test_the_notes_come_before_the_article_and_the_title_last() -> None:
    notes, article, title = "No match here.", "The article names Ivanti.", "Ivanti title"

    assert make_snippet([notes, article, title], ["Ivanti"]) == "The article names «Ivanti»."


def test_the_longer_of_two_overlapping_terms_is_marked() -> None:
    assert make_snippet(["ransomware"], ["ransom", "ransomware"]) == "«ransomware»"


def test_the_texts_own_marks_and_controls_cannot_pass_for_marks_or_markup() -> None:
    snippet = make_snippet(["«fake» <b>Ivanti</b>\x00\x1b[31m\n\nnext line"], ["Ivanti"])

    assert snippet == "‹fake› <b>«Ivanti»</b>[31m next line"
    assert snippet.count(MARK_OPEN) == snippet.count(MARK_CLOSE) == 1


def test_without_a_match_the_start_of_the_first_text_is_shown() -> None:
    assert make_snippet(["", "Some article text."], ["absent"]) == "Some article text."
