"""The `secdigest` command: one module per command group, `main` dispatches.

Modules import what their command needs inside the command's function where start-up time
matters (`secdigest iocs --jsonl` is a per-call cost for scripts: see CONTRIBUTING.md).
"""

from app.cli.main import main

__all__ = ["main"]
