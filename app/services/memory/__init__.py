"""What the service remembers across days: where an indicator was seen before.

Public surface:
- `sightings`: `normalise(value)` (a value in any form to its (type, value), the IOC
  engine's way), `indicator_summary(session, value, cursor=, limit=)` (first/last seen,
  count, a page of sightings newest first), `lookup(session, values)` (many values in one
  query), `first_seen_of(session, pairs)` (the first day of each (type, value), for a
  day's report), and their result types `IndicatorSummary`, `SightingRow`, `Seen`.

The rows themselves (`indicators`, `sightings`) are written by the database's triggers on
report_items (migration c1sightings01), never here: these functions only read.
"""

from app.services.memory.sightings import (
    DEFAULT_PAGE,
    MAX_LOOKUP,
    MAX_PAGE,
    MAX_VALUE_LENGTH,
    IndicatorSummary,
    Seen,
    SightingRow,
    first_seen_of,
    indicator_summary,
    lookup,
    normalise,
)

__all__ = [
    "DEFAULT_PAGE",
    "MAX_LOOKUP",
    "MAX_PAGE",
    "MAX_VALUE_LENGTH",
    "IndicatorSummary",
    "Seen",
    "SightingRow",
    "first_seen_of",
    "indicator_summary",
    "lookup",
    "normalise",
]
