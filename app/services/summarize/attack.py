"""The offline MITRE ATT&CK technique list: which ids exist, their names, their status.

The table (``app/data/attack/enterprise-attack-18.1.tsv``, provenance in
``app/data/README.md``) holds every Enterprise technique and sub-technique of ATT&CK
v18.1, including the ones MITRE has since deprecated or revoked: old reports still cite
``T1086`` (PowerShell, revoked into ``T1059.001``), so an id the article itself cites is
recognised even when it is no longer active.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

ATTACK_VERSION = "18.1"
ATTACK_DOMAIN = "enterprise-attack"
TABLE_FILE = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "attack"
    / f"{ATTACK_DOMAIN}-{ATTACK_VERSION}.tsv"
)

Status = Literal["active", "deprecated", "revoked"]
_STATUSES: frozenset[str] = frozenset({"active", "deprecated", "revoked"})
# Anything written like a technique id, as a model might write it (ATT&CK or not): the
# regex engine is pickier (context, T1001+), which suits articles, not a model's claims.
TECHNIQUE_ID = re.compile(r"(?<![0-9A-Za-z])T\d{4}(?:\.\d{3})?(?![0-9A-Za-z]|\.\d)")


@dataclass(frozen=True, slots=True)
class Technique:
    """One row of the table."""

    id: str
    name: str
    status: Status

    @property
    def active(self) -> bool:
        """Whether the technique is current in this ATT&CK version."""
        return self.status == "active"


@lru_cache(maxsize=1)
def techniques() -> dict[str, Technique]:
    """Every technique of the table by id, read once."""
    table: dict[str, Technique] = {}
    for line in TABLE_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("id\t"):
            continue
        tid, name, status = line.split("\t")
        if status not in _STATUSES:
            raise ValueError(f"{TABLE_FILE.name}: unknown status {status!r} for {tid}")
        table[tid] = Technique(tid, name, status)  # type: ignore[arg-type]
    return table


def normalize_id(value: str) -> str:
    """``t1059.001`` -> ``T1059.001``; surrounding space dropped."""
    return value.strip().upper()


def lookup(value: str) -> Technique | None:
    """The technique with this id, whatever its status; None for an id ATT&CK never had."""
    return techniques().get(normalize_id(value))


def is_active(value: str) -> bool:
    """Whether the id is a current technique of ATT&CK Enterprise."""
    found = lookup(value)
    return found is not None and found.active


def display_name(value: str) -> str | None:
    """``Command and Scripting Interpreter: PowerShell`` for T1059.001, as ATT&CK writes it."""
    found = lookup(value)
    if found is None:
        return None
    parent_id, dot, _ = found.id.partition(".")
    parent = techniques().get(parent_id) if dot else None
    return f"{parent.name}: {found.name}" if parent else found.name
