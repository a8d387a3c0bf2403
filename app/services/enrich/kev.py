"""CISA's Known Exploited Vulnerabilities catalog (JSON): read strictly, pure.

The shape (https://www.cisa.gov/known-exploited-vulnerabilities-catalog, schema 1.x):
`{"catalogVersion", "dateReleased", "count", "vulnerabilities": [{"cveID", "dateAdded",
"dueDate", "knownRansomwareCampaignUse", "vendorProject", "product",
"vulnerabilityName", ...}]}`. Fields we do not store are not checked; those we store
must have their type and form, in every record, or the file is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.services.enrich.catalog import KEV, CatalogRefused, cve_id, iso_day

# What knownRansomwareCampaignUse may hold: "Known" or "Unknown" today; a new word from
# CISA is kept as written, a long text is not that field.
_MAX_WORD = 32
_MAX_VERSION = 64


@dataclass(frozen=True, slots=True)
class KevRecord:
    """One CVE of the catalog."""

    cve_id: str
    date_added: date
    due_date: date
    known_ransomware_campaign_use: str
    vendor_project: str | None = None
    product: str | None = None
    vulnerability_name: str | None = None


@dataclass(frozen=True, slots=True)
class KevCatalog:
    """The catalog: its version and release date, and every record."""

    version: str | None
    released: date | None
    records: tuple[KevRecord, ...]


def _refuse(detail: str) -> CatalogRefused:
    return CatalogRefused(KEV, detail)


def _text(record: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _refuse(f"{where}: {key} is not a text")
    return value


def _day(record: dict[str, Any], key: str, where: str) -> date:
    value = record.get(key)
    day = iso_day(value) if isinstance(value, str) else None
    if day is None:
        raise _refuse(f"{where}: {key} is not a YYYY-MM-DD date")
    return day


def _record(index: int, raw: object) -> KevRecord:
    where = f"record {index}"
    if not isinstance(raw, dict):
        raise _refuse(f"{where} is not an object")
    given = raw.get("cveID")
    cve = cve_id(given) if isinstance(given, str) else None
    if cve is None:
        raise _refuse(f"{where}: cveID is not a CVE id")
    where = f"{where} ({cve})"
    use = _text(raw, "knownRansomwareCampaignUse", where, required=True)
    assert use is not None
    if len(use) > _MAX_WORD:
        raise _refuse(f"{where}: knownRansomwareCampaignUse is not a word")
    return KevRecord(
        cve_id=cve,
        date_added=_day(raw, "dateAdded", where),
        due_date=_day(raw, "dueDate", where),
        known_ransomware_campaign_use=use.strip(),
        vendor_project=_text(raw, "vendorProject", where, required=False),
        product=_text(raw, "product", where, required=False),
        vulnerability_name=_text(raw, "vulnerabilityName", where, required=False),
    )


def _header(document: dict[str, Any]) -> tuple[str | None, date | None]:
    version = document.get("catalogVersion")
    if version is not None and (not isinstance(version, str) or len(version) > _MAX_VERSION):
        raise _refuse("catalogVersion is not a short text")
    released_text = document.get("dateReleased")
    released = None
    if released_text is not None:
        released = iso_day(released_text) if isinstance(released_text, str) else None
        if released is None:
            raise _refuse("dateReleased is not a date")
    return version, released


def parse_kev(body: bytes, *, max_bytes: int) -> KevCatalog:
    """The catalog in `body`; CatalogRefused for anything but a whole, well-formed one.

    Refused: more than `max_bytes`, JSON that does not parse (a truncated download), a
    record without its CVE id, dates or ransomware field in their form, a CVE listed
    twice, a `count` that is not the number of records, and an empty list (storing it
    would empty the table).
    """
    if len(body) > max_bytes:
        raise _refuse(f"it is larger than {max_bytes} bytes")
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise _refuse(f"not valid JSON (cut short?): {exc.msg} at line {exc.lineno}") from None
    except (UnicodeDecodeError, RecursionError):
        raise _refuse("not valid JSON text") from None
    if not isinstance(document, dict):
        raise _refuse("the document is not a JSON object")
    records = document.get("vulnerabilities")
    if not isinstance(records, list):
        raise _refuse("it has no vulnerabilities list")
    if not records:
        raise _refuse("the vulnerabilities list is empty")
    count = document.get("count")
    if count is not None and (
        isinstance(count, bool) or not isinstance(count, int) or count != len(records)
    ):
        raise _refuse(f"count says {count!r}, the list has {len(records)} records")
    version, released = _header(document)
    parsed = tuple(_record(index, raw) for index, raw in enumerate(records))
    seen: set[str] = set()
    for record in parsed:
        if record.cve_id in seen:
            raise _refuse(f"{record.cve_id} is listed twice")
        seen.add(record.cve_id)
    return KevCatalog(version=version, released=released, records=parsed)
