"""CSV: one row per indicator of a day, for spreadsheets and scripts.

RFC 4180: a header row, comma-separated, a cell quoted when it holds a comma, a quote or a
line break (quotes doubled), CRLF line ends, UTF-8; a BOM first when asked (Excel reads a
BOM-less file in the machine's legacy code page and garbles Japanese titles).

CSV injection (OWASP): a spreadsheet may run a cell that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return as a formula, and titles come from web pages: such a cell gets a
leading `'`, so it is shown as text. The apostrophe is part of the cell
for every reader, `csv` included: a title `-1 day exploit` reads `'-1 day exploit`, and a
value that really starts with one of those characters would too (no indicator does: IPs,
domains, URLs, hashes, CVE and ATT&CK ids start with a letter or a digit). A reader that
wants the original strips one leading `'` before those characters.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from app.services.exports.entries import ExportEntry
from app.services.exports.render import ExportOptions

COLUMNS = ("date", "type", "value", "defanged", "flags", "title", "source_url", "section")
BOM = b"\xef\xbb\xbf"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Between the flags of one indicator: not the comma, which would need quoting everywhere.
FLAG_SEPARATOR = ";"


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def rows(entries: list[ExportEntry], *, include_flagged: bool = False) -> list[list[str]]:
    """The data rows, neutralised, in report order: one per indicator of each entry.

    "other" lines (what an analyst wrote that no rule recognises) are not indicators.
    """
    found: list[list[str]] = []
    for entry in entries:
        for ioc in entry.exported_iocs(include_flagged=include_flagged):
            if ioc.type == "other":
                continue
            cells = [
                entry.day.isoformat(),
                ioc.type,
                ioc.value,
                ioc.defanged,
                FLAG_SEPARATOR.join(ioc.flags),
                entry.title,
                entry.url or "",
                entry.section.value,
            ]
            found.append([neutralise(cell) for cell in cells])
    return found


def day_csv(entries: list[ExportEntry], *, day: date, options: ExportOptions) -> bytes:
    """A day's indicators as CSV (the header row even when there are none)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(entries, include_flagged=options.include_flagged))
    body = out.getvalue().encode("utf-8")
    return BOM + body if options.bom else body
