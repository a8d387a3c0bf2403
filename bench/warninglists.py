"""What the MISP warning lists change on the IOC benchmarks (issue 19).

For the ESET corpus (shared/bench/ioc: docs/*.txt, truth/*.json) and our hard cases
(bench/ioc_hard/cases.jsonl, `expected`), runs find_iocs on each document and counts the
TRUTH indicators (real C2, samples...) that come out flagged `benign`, by our own list and
by the chosen warning lists, naming each; then what every one of the package's warning
lists would flag in the truth, read the way flags.py reads lists, which is why the lists
left out are out. Also times the one-time load and the per-indicator cost of the flags.

    .venv/bin/python bench/warninglists.py [--shared ../shared/bench] [--no-all-lists]
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import ipaddress
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from app.services.iocs import find_iocs  # noqa: E402
from app.services.iocs import flags as fl  # noqa: E402

Doc = tuple[str, str, list[tuple[str, str]]]  # name, text, truth (type, normalized value)
BENIGN_KINDS = ("ipv4", "ipv6", "domain", "md5", "sha1", "sha256", "sha512")


def load_scorer(shared: Path) -> Any:
    spec = importlib.util.spec_from_file_location("ioc_bench", shared / "ioc_bench.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def eset_docs(shared: Path, normalize: Any) -> list[Doc]:
    docs = []
    for truth_file in sorted((shared / "ioc" / "truth").glob("*.json")):
        truth = json.loads(truth_file.read_text())
        text = (shared / "ioc" / "docs" / f"{truth_file.stem}.txt").read_text()
        pairs = [(i["type"], normalize(i["type"], i["value"])) for i in truth["iocs"]]
        docs.append((truth_file.stem, text, pairs))
    return docs


def hard_docs(normalize: Any) -> list[Doc]:
    docs = []
    for line in (HERE / "ioc_hard" / "cases.jsonl").read_text().splitlines():
        case = json.loads(line)
        pairs = [(i["type"], normalize(i["type"], i["value"])) for i in case["expected"]]
        docs.append((case["id"], case["text"], pairs))
    return docs


def audit(docs: list[Doc], normalize: Any) -> dict[str, Any]:
    """Extracted and truth indicators flagged benign, by reason."""
    own = fl.BenignList.with_defaults(warninglists=False)
    full = fl.BenignList.with_defaults()
    out: dict[str, Any] = {"docs": len(docs), "truth": 0, "extracted": 0, "not_found": 0}
    out["truth_hits"] = []  # (doc, type, value, reason)
    out["extra_hits"] = collections.Counter()  # reason -> extracted non-truth flagged benign
    out["extra_examples"] = collections.defaultdict(list)
    out["own_extracted"] = 0
    for name, text, truth in docs:
        found = {(i.type.value, normalize(i.type.value, i.value)): i for i in find_iocs(text)}
        truth_set = set(truth)
        out["truth"] += len(truth)
        out["extracted"] += len(found)
        for (kind, value), ioc in found.items():
            if fl.BENIGN in ioc.flags and (kind, value) not in truth_set:
                reason = fl.benign_reason(kind, ioc.value, benign=full) or "?"
                out["extra_hits"][reason] += 1
                out["extra_examples"][reason].append(ioc.value)
            if fl.benign_reason(kind, ioc.value, benign=own):
                out["own_extracted"] += 1
        for kind, value in truth:
            match = found.get((kind, value))
            if match is None:
                out["not_found"] += 1
            checked = match.value if match is not None else value
            if kind not in BENIGN_KINDS or not checked:
                continue
            why = fl.benign_reason(kind, checked, benign=full)
            if why or (match is not None and fl.BENIGN in match.flags):
                out["truth_hits"].append((name, kind, checked, why))
    return out


def every_list(docs_by_corpus: dict[str, list[Doc]]) -> list[tuple[str, str, int, dict[str, int]]]:
    """Each warning list of the package, read as flags.py reads lists: truth hits per corpus."""
    spec = importlib.util.find_spec("pymispwarninglists")
    assert spec is not None
    assert spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "misp-warninglists"
    rows = []
    truth = {
        c: {(k, v) for _n, _t, pairs in docs for k, v in pairs}
        for c, docs in docs_by_corpus.items()
    }
    for list_dir in sorted((root / "lists").iterdir()):
        data = json.loads((list_dir / "list.json").read_text())
        readings = [(list_dir.name, fl._load_warning_lists([list_dir.name]))]
        if data["type"] == "string" and any(str(e).startswith(".") for e in data["list"]):
            # MISP's other reading of a leading dot, "any subdomain", which flags.py refuses
            dotted = fl._Entries()
            for entry in data["list"]:
                dotted.add(str(entry), "", subdomains=str(entry).startswith("."))
            readings.append((f"{list_dir.name} (.name as any subdomain)", dotted))
        for label, entries in readings:
            hits = {
                corpus: sum(1 for kind, value in pairs if value and _listed(entries, kind, value))
                for corpus, pairs in truth.items()
            }
            rows.append((label, data["type"], sum(hits.values()), hits))
    return rows


def _listed(entries: Any, kind: str, value: str) -> bool:
    if kind in ("md5", "sha1", "sha256", "sha512"):
        return value in entries.hashes
    if kind == "domain":
        return entries.name(value) is not None
    if kind in ("ipv4", "ipv6"):
        address = ipaddress.ip_address(value)
        return (
            entries.networks.reason(int(address), address.version, address.max_prefixlen)
            is not None
        )
    return False


def timing(docs: list[Doc]) -> dict[str, float]:
    """One-time load of the chosen lists, and flags_for per indicator with and without them."""
    start = time.perf_counter()
    fl._load_warning_lists(fl.MISP_WARNING_LISTS)
    load = time.perf_counter() - start
    items = [(i.type.value, i.value) for _n, text, _t in docs for i in find_iocs(text)]
    result = {"load_ms": load * 1000, "indicators": float(len(items))}
    for label, benign in (
        ("own", fl.BenignList.with_defaults(warninglists=False)),
        ("own+misp", fl.BenignList.with_defaults()),
    ):
        benign.hash_reason("")  # the lists are loaded before the clock starts
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for kind, value in items:
                fl.flags_for(kind, value, benign=benign, source_domain="welivesecurity.com")
            best = min(best, time.perf_counter() - start)
        result[f"{label}_us"] = best / len(items) * 1e6
    return result


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def head(*cells: str) -> str:
    return row(*cells) + "\n|" + " --- |" * len(cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", default=str(HERE.parent.parent / "shared" / "bench"))
    parser.add_argument("--no-all-lists", action="store_true", help="skip the every-list table")
    args = parser.parse_args()
    scorer = load_scorer(Path(args.shared))
    corpora = {
        "ESET": eset_docs(Path(args.shared), scorer.normalize),
        "hard cases": hard_docs(scorer.normalize),
    }
    chosen = ", ".join(fl.MISP_WARNING_LISTS)
    print(f"**Truth indicators flagged benign** (warning lists: {chosen})\n")
    print(
        head(
            "corpus", "docs", "truth IOCs", "extracted", "extracted benign, own list",
            "truth benign, own list", "truth benign, warning lists",
            "other extracted benign, warning lists",
        )
    )  # fmt: skip
    audits = {c: audit(docs, scorer.normalize) for c, docs in corpora.items()}
    for corpus, a in audits.items():
        own = sum(1 for h in a["truth_hits"] if h[3] in (fl.OWN_REASON, fl.CONFIGURED_REASON))
        misp = sum(1 for h in a["truth_hits"] if h[3] and h[3].startswith(fl.MISP_REASON))
        extra = sum(n for r, n in a["extra_hits"].items() if r.startswith(fl.MISP_REASON))
        print(
            row(corpus, a["docs"], a["truth"], a["extracted"], a["own_extracted"], own, misp, extra)
        )
    print()
    for corpus, a in audits.items():
        for doc, kind, value, reason in a["truth_hits"]:
            print(f"- truth, {corpus}: {doc}: {kind} `{value}`: {reason}")
        for reason, count in sorted(a["extra_hits"].items()):
            examples = ", ".join(sorted(set(a["extra_examples"][reason]))[:6])
            print(f"- not truth, {corpus}: {count} x {reason} ({examples})")
    print()
    t = timing(corpora["ESET"])
    print(
        head(
            "one-time load of the chosen lists",
            "flags_for, own list",
            "with warning lists",
            "indicators",
        )
    )
    print(
        row(
            f"{t['load_ms']:.1f} ms",
            f"{t['own_us']:.2f} µs",
            f"{t['own+misp_us']:.2f} µs",
            f"{t['indicators']:.0f} (ESET)",
        )
    )
    if not args.no_all_lists:
        print("\n**Each warning list of pymispwarninglists: truth indicators it would flag**\n")
        print(head("list", "type", "chosen", "ESET", "hard cases"))
        for name, kind, total, hits in every_list(corpora):
            if total or name.partition(" ")[0] in fl.MISP_WARNING_LISTS:
                mark = "yes" if name in fl.MISP_WARNING_LISTS else ""
                print(row(name, kind, mark, hits["ESET"], hits["hard cases"]))
        print("\n(the other lists flag no truth indicator)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
