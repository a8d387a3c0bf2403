"""Other renderings of the stored reports: STIX 2.1, TAXII 2.1, MISP, CSV, blocklists.

Public surface:
- `entries`: `entries(session, first=, last=)` (the rows every export is made of),
  `ExportEntry`, `EXCLUDED_FLAGS` (indicators left out unless asked for)
- `stix`: a day's STIX 2.1 bundle; `taxii`: the objects of the TAXII collection
- `misp`: MISP events and the MISP feed; `table`: CSV; `blocklist`: one value per line

Nothing here touches HTTP: the routers (`app/routers/`) shape the answers, and the read cache
(`app/services/reports/reads.py`) keeps the bytes of each day's state.
"""
