"""Other renderings of the stored reports: STIX 2.1, TAXII 2.1, MISP, CSV, blocklists.

Public surface:
- `entries`: `entries(session, first=, last=)` (the rows every export is made of),
  `ExportEntry`, `EXCLUDED_FLAGS` (indicators left out unless asked for)
- `render`: `render_export(fmt, entries, day=, options=)`, `ExportOptions`, `EXPORT_FORMATS`
- `stix`: a day's STIX 2.1 bundle; `taxii`: `TaxiiStore`, the objects of the TAXII collection
- `misp`: a day's MISP events and `MispFeed`; `table`: CSV; `blocklist`: `Blocklists`
  (the stores live on the app state: `state.taxii`, `state.misp_feed`, `state.blocklists`)

Nothing here touches HTTP: the routers (`app/routers/`) shape the answers, and the read cache
(`app/services/reports/reads.py`) keeps the bytes of each day's state.
"""
