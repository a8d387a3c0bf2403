"""Indicators of compromise: found in text by rules, never by a model. Pure.

Public surface:
- `find_iocs(text, source_url=, benign=)`, `Ioc`, `IocType`, `NETWORK_TYPES` (`finder`)
- `refang(text)`, `defang(value, type)`, `defang_text(text)` (`finder`)
- `BenignList`, `flags_for`, `source_domain_of` and the flag names (`flags`)

Private: `_refang` (defanged spellings mapped back, offsets kept), `_scan` (the regular
expressions and their checks), `_rules` (domain, address and hash validity).
"""

from app.services.iocs.finder import (
    NETWORK_TYPES,
    Ioc,
    IocType,
    defang,
    defang_text,
    find_iocs,
    refang,
)
from app.services.iocs.flags import BenignList, flags_for, source_domain_of

__all__ = [
    "NETWORK_TYPES",
    "BenignList",
    "Ioc",
    "IocType",
    "defang",
    "defang_text",
    "find_iocs",
    "flags_for",
    "refang",
    "source_domain_of",
]
