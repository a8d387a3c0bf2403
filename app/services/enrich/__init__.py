"""CVE context: CISA's Known Exploited Vulnerabilities and FIRST's EPSS scores.

Public surface:
- `cve_context(session, ids)`, `CveContext`, `KevContext`, `EpssContext`: what the
  stored sources say about CVEs (the report JSON, /summarize, GET /cves/{id})
  (`context`); `cve_details`, `CveDetails` (GET /cves/{id}), `citing_entries`,
  `CitingEntry`; `source_status`, `SourceStatus`
- `update_sources(session, http, policy, *, settings, names)`, `update_due`,
  `claim_due_sources`, `SourceOutcome`, `CHECK_SECONDS`: fetch (conditional GET),
  read, swap the rows (`update`)
- `parse_kev`, `KevCatalog`, `KevRecord` (`kev`); `parse_epss`, `EpssFile`,
  `EpssRecord` (`epss`): the pure, strict readers
- `CatalogRefused`, `cve_id`, `KEV`, `EPSS`, `SOURCES` (`catalog`)
"""

from app.services.enrich.catalog import EPSS, KEV, SOURCES, CatalogRefused, cve_id
from app.services.enrich.context import (
    CitingEntry,
    CveContext,
    CveDetails,
    EpssContext,
    KevContext,
    SourceStatus,
    citing_entries,
    cve_context,
    cve_details,
    source_status,
)
from app.services.enrich.epss import EpssFile, EpssRecord, parse_epss
from app.services.enrich.kev import KevCatalog, KevRecord, parse_kev
from app.services.enrich.update import (
    CHECK_SECONDS,
    SourceOutcome,
    claim_due_sources,
    update_due,
    update_sources,
)

__all__ = [
    "CHECK_SECONDS",
    "EPSS",
    "KEV",
    "SOURCES",
    "CatalogRefused",
    "CitingEntry",
    "CveContext",
    "CveDetails",
    "EpssContext",
    "EpssFile",
    "EpssRecord",
    "KevCatalog",
    "KevContext",
    "KevRecord",
    "SourceOutcome",
    "SourceStatus",
    "citing_entries",
    "claim_due_sources",
    "cve_context",
    "cve_details",
    "cve_id",
    "parse_epss",
    "parse_kev",
    "source_status",
    "update_due",
    "update_sources",
]
