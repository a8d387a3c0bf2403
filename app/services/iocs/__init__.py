"""Indicators of compromise: found in text by rules, never by a model. Pure.

Public surface:
- `find_iocs(text, source_url=, benign=)`, `Ioc`, `IocType`, `NETWORK_TYPES` (`finder`)
- `refang(text)`, `defang(value, type)`, `defang_text(text)` (`finder`)
- `BenignList`, `flags_for`, `flags_with_reasons`, `benign_reason`, `source_domain_of` and
  the flag names (`flags`)

Private: `_refang` (defanged spellings mapped back, offsets kept), `_scan` (the regular
expressions and their checks), `_rules` (domain, address and hash validity).

The names are loaded on first use (PEP 562): `secdigest iocs --jsonl` imports only `_scan`,
and a start-up that imported the finder with it would cost it 15 ms per call.
"""

from __future__ import annotations

from importlib import import_module

# Not imported from typing (3 ms at each start of the batch command); mypy treats any
# TYPE_CHECKING name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from app.services.iocs.finder import (
        NETWORK_TYPES,
        Ioc,
        IocType,
        defang,
        defang_text,
        find_iocs,
        refang,
    )
    from app.services.iocs.flags import (
        BenignList,
        benign_reason,
        flags_for,
        flags_with_reasons,
        source_domain_of,
    )

_HOMES = {
    "NETWORK_TYPES": "finder",
    "Ioc": "finder",
    "IocType": "finder",
    "defang": "finder",
    "defang_text": "finder",
    "find_iocs": "finder",
    "refang": "finder",
    "BenignList": "flags",
    "flags_for": "flags",
    "flags_with_reasons": "flags",
    "benign_reason": "flags",
    "source_domain_of": "flags",
}

__all__ = [
    "NETWORK_TYPES",
    "BenignList",
    "Ioc",
    "IocType",
    "benign_reason",
    "defang",
    "defang_text",
    "find_iocs",
    "flags_for",
    "flags_with_reasons",
    "refang",
    "source_domain_of",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once: later lookups do not come here
    return value
