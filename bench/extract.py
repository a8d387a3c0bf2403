"""Article extraction benchmark: ours against trafilatura and readability-lxml, one run.

Runs the shared scorer (shared/bench/extract_bench.py: each benchmark's own metric) on AEB,
WCXB, the security pages and trafilatura's evaluation subset, every tool in-process on the
same preloaded pages, and prints one summary table (F1 per set, pages/s on AEB) before the
scorer's detailed tables.

    make bench-extract        # or: .venv/bin/python bench/extract.py --shared ../shared/bench
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

OURS = "py:app.services.extract:extract_article"
PEERS = ("trafilatura", "readability", "selectolax_naive")
SETS = ("aeb", "wcxb", "security", "traf")
HERE = Path(__file__).resolve().parent


def _f1(value: Any) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def summary(runs: list[dict[str, Any]]) -> str:
    """Adapter rows: F1 on each set, pages/s on AEB and the ratio to trafilatura."""
    by_tool: dict[str, dict[str, dict[str, Any]]] = {}
    for run in runs:
        by_tool.setdefault(run["adapter"], {})[run["dataset"]] = run
    speed = {tool: sets["aeb"]["speed"]["pages_s"] for tool, sets in by_tool.items()}
    reference = speed.get("trafilatura") or 0.0
    head = ["extractor", *(f"{s} F1" for s in SETS), "pages/s (AEB)", "x trafilatura"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for tool, sets in by_tool.items():
        name = "secdigest" if tool == OURS else tool
        version = next((r.get("version") for r in sets.values() if r.get("version")), "")
        cells = [f"{name} {version}".strip()]
        cells += [_f1(sets[s]["quality"]["f1"]) if s in sets else "-" for s in SETS]
        cells += [f"{speed[tool]:.0f}", f"{speed[tool] / reference:.1f}" if reference else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", default=str(HERE.parent.parent / "shared" / "bench"))
    parser.add_argument("--repeat", type=int, default=2, help="timing passes (best is kept)")
    args = parser.parse_args()
    scorer = Path(args.shared) / "extract_bench.py"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "runs.json"
        command = [sys.executable, str(scorer), "--json", str(out), "--repeat", str(args.repeat)]
        command += [arg for s in SETS for arg in ("-d", s)]
        command += [arg for tool in (OURS, *PEERS) for arg in ("-a", tool)]
        detail = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs = json.loads(out.read_text())["runs"]
    print(summary(runs))
    print()
    print(detail[detail.find("###") :] if "###" in detail else detail)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
