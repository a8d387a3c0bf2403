"""ROUGE-N and ROUGE-L F1 on lowercase word tokens, as google's rouge-score computes them.

Our own fifty lines rather than rouge-score: that package is a benchmark peer (the `bench`
extra), and `secdigest bench llm` must run in an installed service. The tokenizer is
rouge-score's default one (lowercase, runs of ASCII letters and digits) without its Porter
stemmer, so the numbers equal `RougeScorer([...], use_stemmer=False)`'s (a little below
`make bench-summarize`, which stems).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Rouge:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 of one summary against one reference (0..1)."""

    r1: float
    r2: float
    rl: float


def tokens(text: str) -> list[str]:
    """Lowercase runs of ASCII letters and digits: rouge-score's default tokenizer."""
    return _TOKEN.findall(text.lower())


def _f1(overlap: int, produced: int, wanted: int) -> float:
    if not overlap or not produced or not wanted:
        return 0.0
    precision, recall = overlap / produced, overlap / wanted
    return 2 * precision * recall / (precision + recall)


def _ngrams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def rouge_n(summary: list[str], reference: list[str], n: int) -> float:
    """ROUGE-N F1: n-grams in common (clipped counts) over each side's n-grams."""
    produced, wanted = _ngrams(summary, n), _ngrams(reference, n)
    overlap = sum((produced & wanted).values())
    return _f1(overlap, sum(produced.values()), sum(wanted.values()))


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two token lists."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(summary: list[str], reference: list[str]) -> float:
    """ROUGE-L F1: the longest common subsequence over each side's length (no summary-level
    union LCS: that is ROUGE-Lsum)."""
    return _f1(lcs_length(summary, reference), len(summary), len(reference))


def rouge(summary: str, reference: str) -> Rouge:
    """ROUGE-1/2/L F1 of a summary (its bullets joined with spaces) against a reference."""
    produced, wanted = tokens(summary), tokens(reference)
    return Rouge(
        rouge_n(produced, wanted, 1), rouge_n(produced, wanted, 2), rouge_l(produced, wanted)
    )
