"""Near-duplicate threshold: the similarity of every fixture pair, and how the threshold does.

The pairs (tests/fixtures/dedupe/pairs.json) are one story rewritten by two newsrooms
(`same`) and two stories on one topic (hard negatives). Each article file is a title line,
a blank line and the body; like the pipeline, only the body is compared. For contrast the
table also shows plain shingles (3-word shingles; 3-character shingles for Japanese).

    .venv/bin/python bench/dedupe_threshold.py            # the table in docs/dedupe.md
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.services.reports.dedupe import (  # noqa: E402 - after the path set-up above
    MIN_TOKENS,
    NEAR_DUPLICATE,
    near_duplicate,
    similarity,
    story_tokens,
)

FIXTURES = ROOT / "tests" / "fixtures" / "dedupe"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class Pair:
    """Two fixture articles and whether they tell the same story."""

    a: str
    b: str
    same: bool
    why: str


def body(name: str) -> str:
    """The body of a fixture article (its first line is the title)."""
    text = (FIXTURES / "articles" / f"{name}.txt").read_text(encoding="utf-8")
    return text.split("\n", 2)[2]


def load_pairs() -> list[Pair]:
    """Every labelled pair of the fixture set."""
    return [Pair(**entry) for entry in json.loads((FIXTURES / "pairs.json").read_text())]


def _plain_shingles(text: str) -> set[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    if _CJK.search(text):
        chars = re.sub(r"\s+", "", text)
        return {chars[i : i + 3] for i in range(len(chars) - 2)}
    words = re.findall(r"\w+", text)
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def main() -> None:
    """Print the table, the gap, and precision/recall at the threshold and around it."""
    pairs = load_pairs()
    rows = []
    for pair in pairs:
        first, second = story_tokens(body(pair.a)), story_tokens(body(pair.b))
        plain = _jaccard(_plain_shingles(body(pair.a)), _plain_shingles(body(pair.b)))
        rows.append((pair, similarity(first, second), plain, near_duplicate(first, second)))

    print("| pair | same story | distinctive-token Jaccard | plain shingles | merged |")
    print("| --- | --- | --- | --- | --- |")
    for pair, score, plain, merged in rows:
        print(
            f"| {pair.a} / {pair.b} | {'yes' if pair.same else 'no'} | {score:.3f} "
            f"| {plain:.3f} | {'yes' if merged else 'no'} |"
        )
    positives = [score for pair, score, _, _ in rows if pair.same]
    negatives = [score for pair, score, _, _ in rows if not pair.same]
    plain_pos = [plain for pair, _, plain, _ in rows if pair.same]
    plain_neg = [plain for pair, _, plain, _ in rows if not pair.same]
    print()
    print(f"pairs: {len(positives)} same story, {len(negatives)} different stories")
    print(
        f"distinctive tokens: lowest same-story {min(positives):.3f}, "
        f"highest different-story {max(negatives):.3f}"
    )
    print(
        f"plain shingles:     lowest same-story {min(plain_pos):.3f}, "
        f"highest different-story {max(plain_neg):.3f}"
    )
    print()
    print(f"threshold {NEAR_DUPLICATE} (and at least {MIN_TOKENS} tokens on each side):")
    print("| threshold | precision | recall |")
    print("| --- | --- | --- |")
    for threshold in sorted({0.25, 0.30, NEAR_DUPLICATE, 0.40, 0.45, 0.50}):
        merged = [(pair.same, score >= threshold) for pair, score, _, _ in rows]
        hits = sum(1 for same, m in merged if same and m)
        claimed = sum(1 for _, m in merged if m)
        precision = hits / claimed if claimed else 1.0
        recall = hits / len(positives)
        mark = " (chosen)" if threshold == NEAR_DUPLICATE else ""
        print(f"| {threshold:.2f}{mark} | {precision:.3f} | {recall:.3f} |")


if __name__ == "__main__":
    main()
