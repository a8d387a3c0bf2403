"""Offline summary benchmark: our engine against lead-k, TextRank and LexRank, one run.

Runs the shared scorer (shared/bench/summ_bench.py: ROUGE with google rouge-score) on the
cti_blog and CTISum sets. ROUGE grows with length, so the baselines take K sentences where
K is about our mean bullet count (6); compare the words column too. The oracle row is the
upper bound of K-sentence extraction, not a method.

    make bench-summarize      # or: .venv/bin/python bench/summarize.py --shared ../shared/bench
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

OURS = "py:app.services.summarize:offline_bullets"
HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", default=str(HERE.parent.parent / "shared" / "bench"))
    parser.add_argument("-k", type=int, default=6, help="sentences for the baselines")
    args = parser.parse_args()
    shared = Path(args.shared)
    command = [sys.executable, str(shared / "summ_bench.py"), "--data", str(shared / "summarize")]
    command += ["-k", str(args.k)]
    for adapter in ("lead", OURS, "textrank", "lexrank", "oracle"):
        command += ["-a", adapter]
    # The scorer prints Markdown tables (and the paired differences against lead-k).
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
