"""What both sources share: CVE ids, and the refusal of a whole file.

A source file is read whole or not at all: one bad record refuses the file, and the rows
stored from the last good file stay (a half-read catalog would silently drop CVEs).
"""

from __future__ import annotations

import re
from datetime import date

# CVE-YYYY-NNNN with at least four digits (CVE's own rule); at most 20 so that an id
# always fits its column. [0-9], not \d: \d takes any script's digits.
CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,20}", re.IGNORECASE | re.ASCII)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

KEV = "kev"
EPSS = "epss"
SOURCES = (KEV, EPSS)


class CatalogRefused(ValueError):
    """A source file that is not what it should be (truncated, malformed, out of range)."""

    slug = "catalog-refused"

    def __init__(self, source: str, detail: str) -> None:
        super().__init__(f"the {source.upper()} file is refused: {detail}")
        self.source = source
        self.detail = str(self)


def cve_id(value: str) -> str | None:
    """The id in its stored form (upper case), or None when it is not a CVE id."""
    value = value.strip()
    return value.upper() if CVE_ID.fullmatch(value) else None


def iso_day(value: str) -> date | None:
    """A YYYY-MM-DD date (a timestamp's date part too), or None when it is not one.

    Not date.fromisoformat alone: it also reads 20241203 and 2024-W49-2, which no
    catalog writes and which would hide a broken field.
    """
    head = value[:10]
    if not _DAY.fullmatch(head) or value[10:11] not in ("", "T", " "):
        return None
    try:
        return date.fromisoformat(head)
    except ValueError:
        return None
