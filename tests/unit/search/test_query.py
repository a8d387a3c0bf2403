"""Reading a search box: literal terms, phrases, short terms, hostile input, cursors."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest

from app.errors import InvalidRequest
from app.services.search import MAX_QUERY_CHARS, Ranking, SearchFilters, parse_query
from app.services.search.query import (
    Cursor,
    SearchQuery,
    decode_cursor,
    encode_cursor,
    fingerprint,
)


def _texts(query: SearchQuery) -> list[str]:
    return [term.text for term in query.terms]


def test_words_are_terms_that_must_all_be_found() -> None:
    query = parse_query("Ivanti  ランサムウェア\u3000不正アクセス")

    assert _texts(query) == ["Ivanti", "ランサムウェア", "不正アクセス"]
    assert query.ranking is Ranking.RELEVANCE
    assert all(term.indexed for term in query.terms)


def test_double_quotes_make_one_phrase_with_its_spaces() -> None:
    query = parse_query('"Connect  Secure" Ivanti “lateral movement”')

    assert _texts(query) == ["Connect Secure", "Ivanti", "lateral movement"]
    assert [term.phrase for term in query.terms] == [True, False, True]


@pytest.mark.parametrize(
    ("raw", "terms"),
    [
        ("ransomware OR phishing", ["ransomware", "OR", "phishing"]),
        ("NOT Ivanti", ["NOT", "Ivanti"]),
        ("NEAR(ivanti fortinet, 5)", ["NEAR(ivanti", "fortinet,", "5)"]),
        ("-Ivanti +LockBit", ["-Ivanti", "+LockBit"]),
        ("(ransomware)", ["(ransomware)"]),
        ("title:Ivanti ^start", ["title:Ivanti", "^start"]),
        ("CVE-2024-21887", ["CVE-2024-21887"]),
        ("evil.com/gate.php?id=1%", ["evil.com/gate.php?id=1%"]),
    ],
)
def test_operators_are_text_matched_as_written(raw: str, terms: list[str]) -> None:
    assert _texts(parse_query(raw)) == terms


def test_a_star_at_either_end_is_dropped_every_word_is_a_prefix_already() -> None:
    assert _texts(parse_query("ransom* *ware **")) == ["ransom", "ware"]


def test_a_stray_double_quote_is_dropped() -> None:
    assert _texts(parse_query('"Ivanti Connect')) == ["Ivanti", "Connect"]
    assert _texts(parse_query('"Connect Secure" Ivanti"')) == ["Connect Secure", "Ivanti"]


def test_the_same_term_twice_is_one_term_whatever_its_case() -> None:
    assert _texts(parse_query("Ivanti ivanti IVANTI")) == ["Ivanti"]


def test_two_character_terms_are_checked_and_alone_they_list_the_newest_first() -> None:
    short = parse_query("侵入 AI")
    mixed = parse_query("Ivanti 侵入")

    assert short.ranking is Ranking.NEWEST
    assert [term.text for term in short.checked] == ["侵入", "AI"]
    assert mixed.ranking is Ranking.RELEVANCE
    assert [term.text for term in mixed.indexed] == ["Ivanti"]
    assert [term.text for term in mixed.checked] == ["侵入"]


def test_terms_without_three_letters_in_a_row_cannot_use_the_trigram_index() -> None:
    query = parse_query("C++ ...")

    assert query.ranking is Ranking.NEWEST
    assert not any(term.indexed for term in query.terms)


@pytest.mark.parametrize("raw", ["侵", "a", "a b 侵", "*", '""', "   ", ""])
def test_one_character_or_empty_queries_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_query(raw)


def test_a_query_of_ten_thousand_characters_is_refused_before_it_is_read() -> None:
    with pytest.raises(InvalidRequest, match="at most 256"):
        parse_query("ランサムウェア" * 1500)
    assert parse_query("x" * MAX_QUERY_CHARS).terms  # the limit itself is fine


def test_more_than_eight_terms_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="at most 8"):
        parse_query(" ".join(f"word{n}" for n in range(9)))


def test_control_and_invisible_characters_separate_words() -> None:
    query = parse_query("Iva\x00nti\x07 ransom\u200bware \u202eevil\u202c")

    assert _texts(query) == ["Iva", "nti", "ransom", "ware", "evil"]
    assert not any("\x00" in term.text for term in query.terms)


def test_a_filter_from_after_to_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="after"):
        SearchFilters(first=date(2024, 12, 6), last=date(2024, 12, 1))


# ---------------------------------------------------------------------------- cursors


def test_a_cursor_comes_back_as_it_was_given() -> None:
    query = parse_query("Ivanti")
    key = fingerprint(query, SearchFilters())
    cursor = Cursor(score=5.825856363497036, day=date(2024, 2, 17), item_id=2151)

    assert decode_cursor(encode_cursor(cursor, key), key, Ranking.RELEVANCE) == cursor


def test_a_cursor_of_another_search_is_refused() -> None:
    first = fingerprint(parse_query("Ivanti"), SearchFilters())
    other = fingerprint(parse_query("Ivanti"), SearchFilters(section="tools"))
    token = encode_cursor(Cursor(1.0, date(2024, 1, 1), 1), first)

    with pytest.raises(InvalidRequest, match="another search"):
        decode_cursor(token, other, Ranking.RELEVANCE)


def _token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not base64 !",
        "x" * 500,
        _token({"score": 1}),
        _token(["KEY", 1.0, "2024-13-01", 1]),
        _token(["KEY", 1.0, "2024-01-01", 2**40]),
        _token(["KEY", 1.0, "2024-01-01", 0]),
        _token(["KEY", 1.0, "2024-01-01", True]),
        _token(["KEY", "1.0", "2024-01-01", 1]),
        _token(["KEY", None, "2024-01-01", 1]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_forged_cursors_are_refused(token: str) -> None:
    with pytest.raises(InvalidRequest, match="cursor"):
        decode_cursor(token, "KEY", Ranking.RELEVANCE)
