"""One candidate indicator found by a scanner (private helper of _scan and its finders)."""

from __future__ import annotations


class Hit:
    """One candidate occurrence; a slotted class because typing.NamedTuple costs an import."""

    __slots__ = ("end", "kind", "start", "value")

    def __init__(self, kind: str, value: str, start: int, end: int) -> None:
        self.kind = kind  # an IocType value
        self.value = value  # normalized; "" for a URL that defang_text must defang but is no IOC
        self.start = start  # span in the refanged text
        self.end = end
