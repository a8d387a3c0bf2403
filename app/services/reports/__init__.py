"""The day's report: which day, its items, their sections, one entry per story.

Public surface:
- `days`: `today`, `parse_day`, `resolve_day`, `get_report`, `get_or_create_report`,
  `list_reports`, `place_article` (→ `Placed`), `item_to_document`, `report_to_document`,
  `load_document`, `import_document` (re-exported here: `reports.today(...)`)
- `document`: `ReportDocument`, `DocumentItem`, `DocumentIoc`, `DocumentSource`, `ItemKind`:
  the report as plain values, what the Markdown renderer and parser exchange
- `sections`: `Section`, `SECTION_ORDER`, `LINK_SECTIONS`, `SECTION_HEADINGS`
- `urls`: `canonical_url` (tracking parameters, fragments and AMP variants removed)
- `dedupe`: a stored article for a URL or a text, near-duplicate stories, sources
"""

from app.services.reports.days import (
    Placed,
    get_or_create_report,
    get_report,
    import_document,
    item_to_document,
    list_reports,
    load_document,
    new_entry,
    parse_day,
    place_article,
    report_to_document,
    resolve_day,
    today,
)

__all__ = [
    "Placed",
    "get_or_create_report",
    "get_report",
    "import_document",
    "item_to_document",
    "list_reports",
    "load_document",
    "new_entry",
    "parse_day",
    "place_article",
    "report_to_document",
    "resolve_day",
    "today",
]
