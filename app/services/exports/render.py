"""Which export renders a day, and the options every export takes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from importlib import import_module

from app.services.exports.entries import ExportEntry

# `?format=` of a day's exports, and their media types.
EXPORT_FORMATS = {
    "stix": "application/stix+json;version=2.1",
    "misp": "application/json",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What an export's bytes depend on beyond the day's state."""

    producer: str  # the name of the producer's identity (SECDIGEST_PRODUCER_NAME)
    tlp: str  # clear | green | amber | amber+strict | red (SECDIGEST_TLP)
    include_flagged: bool = False  # keep benign, private... indicators, labelled
    bom: bool = False  # CSV: a UTF-8 byte order mark first (Excel)

    @property
    def key(self) -> str:
        """The options as part of a cache key."""
        text = f"{self.producer}\0{self.tlp}\0{self.include_flagged}\0{self.bom}"
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# Each format's module and function, imported when first asked for: a format's library
# (PyMISP, say) costs nothing to a process that never exports in it.
_RENDERERS = {
    "stix": ("app.services.exports.stix", "day_bundle"),
    "misp": ("app.services.exports.misp", "day_events"),
    "csv": ("app.services.exports.table", "day_csv"),
}


def render_export(
    fmt: str, entries: list[ExportEntry], *, day: date, options: ExportOptions
) -> bytes:
    """A day's entries in an export format (a key of EXPORT_FORMATS).

    Every renderer is called `renderer(entries, day=day, options=options) -> bytes`.
    """
    if fmt not in _RENDERERS:
        raise ValueError(f"no export format {fmt!r}")
    module, function = _RENDERERS[fmt]
    renderer = getattr(import_module(module), function)
    return bytes(renderer(entries, day=day, options=options))
