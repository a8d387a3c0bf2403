"""ROUGE-1/2/L F1: small cases checked by hand, and google rouge-score's own numbers.

rouge-score is a benchmark peer (the `bench` extra), not in `dev`: its numbers for the
texts below were computed once with ``RougeScorer(["rouge1", "rouge2", "rougeL"])``
(rouge-score 0.1.2, no stemmer) and are written here.
"""

from __future__ import annotations

import pytest

from app.services.llmbench import rouge, rouge_l, rouge_n, tokens
from app.services.llmbench.rouge import lcs_length

# (summary, reference, rouge1, rouge2, rougeL) from rouge_score.score(reference, summary).
ROUGE_SCORE = [
    ("the cat sat on the mat", "the cat was on the mat", 0.833333, 0.6, 0.833333),
    (
        "A loader named SpiderPouch contacts 91.210.107.44 over HTTPS; CVE-2024-38077 is "
        "exploited.",
        "SpiderPouch, a new loader, exploits CVE-2024-38077 and talks to its C2 over HTTPS.",
        0.516129,
        0.206897,
        0.322581,
    ),
    (
        "Patch Exchange servers now. Attackers chain ProxyShell bugs to drop web shells.",
        "Attackers drop web shells on Exchange servers by chaining the ProxyShell bugs; patch now.",
        0.769231,
        0.333333,
        0.307692,
    ),
]


def test_tokens_are_lowercase_runs_of_ascii_letters_and_digits() -> None:
    assert tokens("CVE-2024-38077 hit 91.210.107[.]44, Ivanti's VPN!") == [
        "cve", "2024", "38077", "hit", "91", "210", "107", "44", "ivanti", "s", "vpn",
    ]  # fmt: skip


def test_rouge_1_of_a_hand_checked_pair() -> None:
    # "a b c d" vs "a b x": 2 unigrams in common, P = 2/4, R = 2/3, F = 2PR/(P+R) = 4/7.
    assert rouge_n(["a", "b", "c", "d"], ["a", "b", "x"], 1) == pytest.approx(4 / 7)


def test_rouge_2_clips_repeated_bigrams_to_the_reference_count() -> None:
    # "a b a b a b" has 5 bigrams (ab, ba, ab, ba, ab); the reference "a b c" has ab, bc.
    # In common: ab once (clipped to the reference count). P = 1/5, R = 1/2, F = 2/7.
    assert rouge_n(["a", "b", "a", "b", "a", "b"], ["a", "b", "c"], 2) == pytest.approx(2 / 7)


def test_rouge_l_is_the_longest_common_subsequence() -> None:
    # LCS of "a b c d e" and "a x c y e" is "a c e": P = R = 3/5.
    assert lcs_length(list("abcde"), list("axcye")) == 3
    assert rouge_l(list("abcde"), list("axcye")) == pytest.approx(3 / 5)


def test_nothing_in_common_or_an_empty_side_scores_zero() -> None:
    assert rouge("", "anything at all") == rouge("nothing", "") == rouge("a b", "c d")
    assert rouge("a b", "c d").r1 == 0.0


@pytest.mark.parametrize(("summary", "reference", "r1", "r2", "rl"), ROUGE_SCORE)
def test_scores_equal_google_rouge_score(
    summary: str, reference: str, r1: float, r2: float, rl: float
) -> None:
    score = rouge(summary, reference)

    assert (score.r1, score.r2, score.rl) == pytest.approx((r1, r2, rl), abs=1e-6)
