"""Score the IOC types the shared scorer does not know, on bench/ioc_types/cases.jsonl.

The shared scorer (shared/bench/ioc_bench.py) scores ipv4, ipv6, domain, url, email, md5, sha1,
sha256, sha512 and cve. This module scores the newer types under our engine's names (CIDRs,
ASNs, wallets, v3 onion names, file paths, registry keys, fuzzy hashes, imphash, TLS
fingerprints, CWE ids) for `secdigest iocs --jsonl` and for the peers that support some of
them (ioc-finder, iocsearcher, msticpy), with the same rules: per case and type, sets of
normalized values; TP = pred & truth, FN = truth - pred, FP = pred - truth - optional. Common
types are normalized by the shared scorer's `normalize`, and scored too (the "common" column):
an imphash or a JA3 reported as an md5 is a false md5 here.

    .venv/bin/python bench/ioc_types/score.py --shared ../shared/bench [--show-errors 5]

`make bench-iocs` prints this table after the shared scorer's (bench/iocs.py).
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import ipaddress
import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.jsonl"

# "onion" is not a type of its own: it is the `domain` values ending in .onion, given a column.
NEW_TYPES = (
    "ipv4_cidr",
    "ipv6_cidr",
    "asn",
    "bitcoin",
    "ethereum",
    "monero",
    "onion",
    "file_path",
    "registry_key",
    "ssdeep",
    "tlsh",
    "imphash",
    "ja3",
    "ja3s",
    "ja4",
    "jarm",
    "cwe",
)
COMMON_TYPES = ("ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "cve")
SCORED = (*NEW_TYPES, *COMMON_TYPES)

Pairs = list[tuple[str, str]]


def load_shared(shared: Path) -> ModuleType:
    """The shared scorer as a module (its normalize, refang and derived_optional)."""
    spec = importlib.util.spec_from_file_location("ioc_bench", shared / "ioc_bench.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"{shared}/ioc_bench.py: not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- normalization
_TRAIL = ".,;:!?'\"`>)]}、。，．：；）」』】"
_HIVES = {
    "hkey_local_machine": "hklm",
    "hkey_current_user": "hkcu",
    "hkey_classes_root": "hkcr",
    "hkey_users": "hku",
    "hkey_current_config": "hkcc",
    "hkey_performance_data": "hkpd",
    "hkey_dyn_data": "hkdd",
}


def _trim(value: str) -> str:
    value = value.strip().strip("<>\"'`「」『』（）")
    while value[:1] == "(" and value.count("(") > value.count(")"):
        value = value[1:]
    while value and value[-1] in _TRAIL:
        if value[-1] in ")]}" and value.count(value[-1]) <= value.count(
            {")": "(", "]": "[", "}": "{"}[value[-1]]
        ):
            break  # "Program Files (x86)" keeps its parenthesis
        value = value[:-1]
    return value


def normalize(shared: ModuleType, typ: str, value: str) -> str | None:
    """Canonical form of a value of one of our types (truth and predictions alike)."""
    if typ == "ipv6":
        try:  # the shared normalize strips the trailing "::" of a network address as punctuation
            return str(ipaddress.ip_address(str(value).strip().strip("[]")))
        except ValueError:
            pass
    if typ in COMMON_TYPES:
        return shared.normalize(typ, value)
    v = _trim(str(value))
    if not v:
        return None
    if typ in ("ipv4_cidr", "ipv6_cidr"):
        v = shared.refang(v).strip("[]")
        try:
            return str(ipaddress.ip_interface(v)).lower()  # host bits kept: "1.2.3.4/24" is a fact
        except ValueError:
            return v.lower()
    if typ == "asn":
        m = re.fullmatch(r"(?:as(?:n|\s*number)?)?[\s:_-]*(\d{1,10})", v, flags=re.I)
        return f"AS{int(m.group(1))}" if m else v.upper()
    if typ == "bitcoin":
        return v.lower() if v.lower().startswith(("bc1", "tb1")) else v  # bech32 is one case
    if typ in ("ethereum", "imphash", "ja3", "ja3s", "ja4", "jarm"):
        return v.lower()
    if typ == "tlsh":
        v = (
            v.upper()
        )  # "T1" is the version prefix (TLSH 4.x); older tools print the 70 digits alone
        return v[2:] if len(v) == 72 and v.startswith("T1") else v
    if typ == "cwe":
        m = re.fullmatch(r"cwe[\s_\-\u2010-\u2015]*(\d{1,5})", v, flags=re.I)
        return f"CWE-{int(m.group(1))}" if m else v.upper()
    if typ == "file_path":
        return v.rstrip("\\/").lower()
    if typ == "registry_key":
        v = v.replace("\\\\", "\\").rstrip("\\").lower()
        hive, sep, rest = v.partition("\\")
        hive = hive.rstrip(":")
        return _HIVES.get(hive, hive) + sep + rest
    return v  # monero and ssdeep: case matters


def norm_set(shared: ModuleType, items: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Normalized (type, value) pairs; a .onion domain also counts as the "onion" pseudo-type."""
    out = set()
    for typ, value in items:
        if typ not in SCORED or typ == "onion":
            continue
        n = normalize(shared, typ, value)
        if not n:
            continue
        out.add((typ, n))
        if typ == "domain" and n.endswith(".onion"):
            out.add(("onion", n))
    return out


def derived_optional(
    shared: ModuleType, truth: set[tuple[str, str]], optional: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The shared scorer's (hosts of URLs, domains of e-mails) and the address written in each
    CIDR (as an ipv4/ipv6), for truth and optional values: neither rewarded nor penalised."""
    out = set()
    for typ, value in shared.derived_optional(truth | optional):
        out.add((typ, value))
        if typ == "domain" and value.endswith(".onion"):
            out.add(("onion", value))
    for typ, value in truth | optional:
        if typ in ("ipv4_cidr", "ipv6_cidr"):
            try:
                address = ipaddress.ip_interface(value)
            except ValueError:
                continue
            kind = "ipv4" if address.version == 4 else "ipv6"
            out.add((kind, str(address.ip)))
            out.add((kind, str(address.network.network_address)))
    return out


def load_cases(shared: ModuleType, path: Path = CASES) -> list[dict[str, Any]]:
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        truth = norm_set(shared, ((i["type"], i["value"]) for i in case["expected"]))
        optional = norm_set(shared, ((i["type"], i["value"]) for i in case.get("optional", [])))
        optional |= derived_optional(shared, truth, optional)
        docs.append({"id": case["id"], "text": case["text"], "truth": truth, "optional": optional})
    return docs


# ----------------------------------------------------------------------------- tools
class Tool:
    """A tool's name, the new types it claims to extract, and its raw (type, value) output."""

    name = "base"
    supported: frozenset[str] = frozenset()

    def run(self, docs: list[dict[str, Any]]) -> dict[str, Pairs]:
        return {d["id"]: self.extract(d["text"]) for d in docs}

    def extract(self, text: str) -> Pairs:
        raise NotImplementedError


class Ours(Tool):
    """`secdigest iocs --jsonl`, one process for the set (JSON lines in and out)."""

    name = "secdigest"
    supported = frozenset(NEW_TYPES)

    def run(self, docs: list[dict[str, Any]]) -> dict[str, Pairs]:
        exe = Path(sys.executable).parent / "secdigest"
        payload = "".join(
            json.dumps({"id": d["id"], "text": d["text"]}, ensure_ascii=False) + "\n" for d in docs
        )
        proc = subprocess.run(
            [str(exe), "iocs", "--jsonl"],
            input=payload.encode(),
            capture_output=True,
            timeout=600,
            check=False,
        )
        if proc.returncode:
            tail = proc.stderr.decode(errors="replace")[-500:]
            raise RuntimeError(f"secdigest iocs --jsonl: exit {proc.returncode}: {tail}")
        out: dict[str, Pairs] = {}
        for line in proc.stdout.decode().splitlines():
            if line.strip():
                row = json.loads(line)
                out[str(row["id"])] = [(i["type"], i["value"]) for i in row.get("iocs", [])]
        return out


class IocFinder(Tool):
    """ioc-finder's find_iocs with the default types plus every type that maps to one of ours."""

    name = "ioc_finder"
    supported = frozenset(
        {
            "ipv4_cidr",
            "ipv6_cidr",
            "asn",
            "bitcoin",
            "monero",
            "onion",
            "file_path",
            "registry_key",
            "ssdeep",
            "imphash",
        }
    )
    MAP: ClassVar[dict[str, str]] = {
        "ipv4_cidrs": "ipv4_cidr",
        "ipv6_cidrs": "ipv6_cidr",
        "asns": "asn",
        "bitcoin_addresses": "bitcoin",
        "monero_addresses": "monero",
        "file_paths": "file_path",
        "registry_key_paths": "registry_key",
        "ssdeeps": "ssdeep",
        "imphashes": "imphash",
        "urls": "url",
        "domains": "domain",
        "ipv4s": "ipv4",
        "ipv6s": "ipv6",
        "email_addresses": "email",
        "md5s": "md5",
        "sha1s": "sha1",
        "sha256s": "sha256",
        "sha512s": "sha512",
        "cves": "cve",
    }

    def __init__(self) -> None:
        from ioc_finder import find_iocs  # noqa: PLC0415 - the peers are optional (bench extra)

        self.find = find_iocs

    def extract(self, text: str) -> Pairs:
        found = self.find(text, included_ioc_types=list(self.MAP))
        return [(ours, v) for key, ours in self.MAP.items() for v in found.get(key) or []]


class Iocsearcher(Tool):
    """iocsearcher's Searcher with its default patterns (validated wallets and v3 onions)."""

    name = "iocsearcher"
    supported = frozenset({"ipv4_cidr", "bitcoin", "ethereum", "monero", "onion", "registry_key"})
    MAP: ClassVar[dict[str, str]] = {
        "ip4Net": "ipv4_cidr",
        "bitcoin": "bitcoin",
        "ethereum": "ethereum",
        "monero": "monero",
        "onionAddress": "domain",  # the 56-letter label alone: ".onion" is added back
        "registry": "registry_key",
        "url": "url",
        "fqdn": "domain",
        "ip4": "ipv4",
        "ip6": "ipv6",
        "email": "email",
        "md5": "md5",
        "sha1": "sha1",
        "sha256": "sha256",
        "cve": "cve",
    }

    def __init__(self) -> None:
        from iocsearcher.searcher import Searcher  # noqa: PLC0415

        self.searcher = Searcher()

    def extract(self, text: str) -> Pairs:
        out = []
        for ioc in self.searcher.search_data(text):
            typ = self.MAP.get(ioc.name)
            if typ is None:
                continue
            value = str(ioc.value)
            if ioc.name == "onionAddress" and not value.endswith(".onion"):
                value += ".onion"
            out.append((typ, value))
        return out


class Msticpy(Tool):
    """msticpy's IoCExtract: windows_path and linux_path are its file paths."""

    name = "msticpy"
    supported = frozenset({"file_path"})
    MAP: ClassVar[dict[str, str]] = {
        "windows_path": "file_path",
        "linux_path": "file_path",
        "ipv4": "ipv4",
        "ipv6": "ipv6",
        "dns": "domain",
        "url": "url",
        "email": "email",
        "md5_hash": "md5",
        "sha1_hash": "sha1",
        "sha256_hash": "sha256",
    }

    def __init__(self) -> None:
        logging.getLogger("msticpy").setLevel(logging.ERROR)
        from msticpy.transform import IoCExtract  # noqa: PLC0415

        self.extractor = IoCExtract()

    def extract(self, text: str) -> Pairs:
        found = self.extractor.extract(src=text)
        return [(ours, v) for key, ours in self.MAP.items() for v in found.get(key, ())]


TOOLS: dict[str, Callable[[], Tool]] = {
    "secdigest": Ours,
    "ioc_finder": IocFinder,
    "iocsearcher": Iocsearcher,
    "msticpy": Msticpy,
}


# ----------------------------------------------------------------------------- scoring
def prf(c: collections.Counter) -> tuple[float | None, float | None, float | None]:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    if p is None or r is None:
        return p, r, None
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(shared: ModuleType, docs: list[dict[str, Any]], raw: dict[str, Pairs]) -> dict[str, Any]:
    per: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    errors: dict[str, dict[str, list[tuple[str, str]]]] = collections.defaultdict(
        lambda: {"fp": [], "fn": []}
    )
    for d in docs:
        pred = norm_set(shared, raw.get(d["id"], []))
        for t in SCORED:
            truth = {v for ty, v in d["truth"] if ty == t}
            got = {v for ty, v in pred if ty == t}
            optional = {v for ty, v in d["optional"] if ty == t} - truth
            fp, fn = got - truth - optional, truth - got
            per[t]["tp"] += len(got & truth)
            per[t]["fp"] += len(fp)
            per[t]["fn"] += len(fn)
            errors[t]["fp"] += [(d["id"], v) for v in sorted(fp)]
            errors[t]["fn"] += [(d["id"], v) for v in sorted(fn)]
    return {"per_type": per, "errors": errors}


def micro(per: dict[str, collections.Counter], types: Iterable[str]):
    total: collections.Counter = collections.Counter()
    for t in types:
        total.update(per[t])
    return prf(total)


def evaluate(shared: ModuleType, tools: Iterable[str], path: Path = CASES) -> list[dict[str, Any]]:
    """One result per tool: per-type counts, errors, supported types and seconds."""
    docs = load_cases(shared, path)
    results = []
    for name in tools:
        tool = TOOLS[name]()
        started = time.perf_counter()
        raw = tool.run(docs)
        seconds = time.perf_counter() - started
        result = score(shared, docs, raw)
        result.update(tool=tool.name, supported=tool.supported, seconds=seconds, docs=len(docs))
        results.append(result)
    return results


def _cell(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def table(title: str, results: list[dict[str, Any]]) -> str:
    """Markdown: per new type F1 ("—" where the tool does not extract that type), micro P/R/F1
    over all new types (unsupported ones count as misses), F1 over the supported ones only, and
    the micro F1 of the common types on the same passages."""
    head = ["tool", "micro P", "micro R", "micro F1", "F1 (supported)", "common F1", *NEW_TYPES]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in results:
        per, sup = r["per_type"], r["supported"]
        p, rec, f = micro(per, NEW_TYPES)
        cells = [
            r["tool"],
            _cell(p),
            _cell(rec),
            _cell(f),
            _cell(micro(per, [t for t in NEW_TYPES if t in sup])[2]),
            _cell(micro(per, COMMON_TYPES)[2]),
        ]
        cells += [_cell(prf(per[t])[2]) if t in sup else "—" for t in NEW_TYPES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def truth_counts(shared: ModuleType, path: Path = CASES) -> str:
    docs = load_cases(shared, path)
    counts = collections.Counter(t for d in docs for t, _ in d["truth"])
    return ", ".join(f"{t} {counts[t]}" for t in SCORED if counts[t])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", default=str(HERE.parent.parent.parent / "shared" / "bench"))
    parser.add_argument("--tool", action="append", choices=sorted(TOOLS), help="repeatable")
    parser.add_argument("--cases", default=str(CASES))
    parser.add_argument("--show-errors", type=int, default=0, metavar="N")
    args = parser.parse_args()
    shared = load_shared(Path(args.shared))
    results = evaluate(shared, args.tool or list(TOOLS), Path(args.cases))
    print(
        table(
            f"new types ({args.cases}, {len(load_cases(shared, Path(args.cases)))} cases)", results
        )
    )
    print(f"\ntruth: {truth_counts(shared, Path(args.cases))}")
    for r in results:
        if not args.show_errors:
            break
        print(f"\n{r['tool']} ({r['seconds']:.2f} s)")
        for t in SCORED:
            if t not in r["supported"] and t in NEW_TYPES:
                continue
            for kind in ("fp", "fn"):
                errs = r["errors"][t][kind][: args.show_errors]
                if errs:
                    print(f"  {kind.upper()} {t}: " + "; ".join(f"{d}:{v}" for d, v in errs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
