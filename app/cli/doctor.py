"""`secdigest doctor`: one line per check (ok, warn, FAIL, with a hint); exit 1 on a FAIL."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from app.cli._common import run_async, settings
from app.services.doctor import Check, Status, diagnose, settings_failure

_MARKS = {Status.OK: "ok", Status.WARN: "warn", Status.FAIL: "FAIL"}


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check the database, the broker, the model, the fetch guard and mail; print the results."""
    try:
        current = settings()
    except ValidationError as exc:
        checks = [settings_failure(exc)]
    else:
        checks = run_async(diagnose(current, seconds=args.timeout))
    sys.stdout.write(render(checks))
    return 1 if any(check.status is Status.FAIL for check in checks) else 0


def render(checks: list[Check]) -> str:
    """The screen: a status column, the check's name, what was found; the hint below it."""
    width = max(len(check.name) for check in checks)
    lines = []
    for check in checks:
        lines.append(f"{_MARKS[check.status]:<4}  {check.name:<{width}}  {check.detail}")
        if check.hint:
            lines.append(f"{'':<4}  {'':<{width}}  -> {check.hint}")
    failed = sum(check.status is Status.FAIL for check in checks)
    warned = sum(check.status is Status.WARN for check in checks)
    lines.append(f"\n{failed} failed, {warned} warnings, {len(checks)} checks")
    return "\n".join(lines) + "\n"
