"""IOC extraction benchmark: ours against the Python peers, in one run, one table per set.

Runs the shared scorer (shared/bench/ioc_bench.py) on the ESET corpus and on our own
hard-case set (bench/ioc_hard), for `secdigest iocs --jsonl` (a real process: its start
is part of its time) and for iocextract, ioc-finder, iocsearcher and msticpy (in-process,
imports not timed: the scorer's rules). Prints per-type and micro F1 and MB/s. Then scores
the types the shared scorer does not know (CIDRs, ASNs, wallets, onions, file paths, registry
keys, fuzzy hashes, imphash, TLS fingerprints, CWE) on bench/ioc_types with
bench/ioc_types/score.py, for ours, ioc-finder, iocsearcher and msticpy.

    make bench-iocs            # or: .venv/bin/python bench/iocs.py --shared ../shared/bench
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

OURS = "cmdbatch:secdigest iocs --jsonl"
PEERS = ("iocextract", "ioc_finder", "iocsearcher", "msticpy")
TYPES = ("ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "cve")
HERE = Path(__file__).resolve().parent


def run_scorer(scorer: Path, corpus: Path, tools: list[str], repeat: int) -> list[dict[str, Any]]:
    """One scorer process for every tool; the JSON summary line of each."""
    env = dict(os.environ)
    # `secdigest` must be the one installed next to this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.jsonl"
        command = [sys.executable, str(scorer), "--corpus", str(corpus), "--json", str(out)]
        command += ["--repeat", str(repeat)]
        for tool in tools:
            command += ["--tool", tool]
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def _f1(value: object) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def table(title: str, summaries: list[dict[str, Any]], *, timed: bool) -> str:
    """A Markdown table: one row per tool, F1 per type, micro, network (and MB/s if timed)."""
    peers = [s for s in summaries if s["tool"] != OURS]
    fastest = max((float(s["mb_per_s"]) for s in peers), default=0.0)
    present = [t for t in TYPES if any(t in s["per_type"] for s in summaries)]
    extra = (
        ["mitre_technique"] if any("mitre_technique" in s["per_type"] for s in summaries) else []
    )
    speed_head = ["MB/s", "x fastest peer"] if timed else []
    head = ["tool", "micro F1", "network F1", *present, *(["ATT&CK"] if extra else []), *speed_head]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for s in summaries:
        per = s["per_type"]
        name = "secdigest" if s["tool"] == OURS else str(s["tool"])
        speed = float(s["mb_per_s"])
        cells = [
            name,
            _f1(s["micro"]["f1"]),
            _f1(s["micro_groups"]["network"]["f1"]),
            *(_f1(per[t]["f1"]) if t in per else "  -  " for t in [*present, *extra]),
        ]
        if timed:
            cells += [f"{speed:.2f}", f"{speed / fastest:.1f}" if fastest else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def new_types_table(shared: Path) -> str:
    """The table of bench/ioc_types/score.py (types the shared scorer does not score)."""
    spec = importlib.util.spec_from_file_location(
        "ioc_types_score", HERE / "ioc_types" / "score.py"
    )
    if spec is None or spec.loader is None:
        raise SystemExit("bench/ioc_types/score.py: not found")
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    scorer = score.load_shared(shared)
    results = score.evaluate(scorer, list(score.TOOLS))
    cases = results[0]["docs"] if results else 0
    title = f"new types (bench/ioc_types, {cases} hand-written passages; — = type not extracted)"
    return score.table(title, results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", default=str(HERE.parent.parent / "shared" / "bench"))
    parser.add_argument("--repeat", type=int, default=3, help="timing passes (best is kept)")
    args = parser.parse_args()
    shared = Path(args.shared)
    scorer = shared / "ioc_bench.py"
    # Our process is timed as installed: pip writes the package's bytecode at install, an
    # editable checkout (and PYTHONDONTWRITEBYTECODE) would compile the sources at each start.
    import compileall  # noqa: PLC0415 - only here

    compileall.compile_dir(HERE.parent / "app", quiet=1)
    # The hard set is a few kilobytes: its times would measure process start, not speed.
    corpora = [
        ("ESET (118 reports, shared/bench/ioc)", shared / "ioc", True),
        ("hard cases (bench/ioc_hard; too small to time)", HERE / "ioc_hard", False),
    ]
    for title, corpus, timed in corpora:
        summaries = run_scorer(scorer, corpus, [OURS, *PEERS], args.repeat if timed else 1)
        print(table(title, summaries, timed=timed))
        print()
    print(new_types_table(shared))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
