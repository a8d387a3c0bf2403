"""`secdigest keys create|list|revoke`: API keys (printed once, only a hash stored)."""

from __future__ import annotations

import argparse
import sys

from app.cli._common import fail, migrate_if_asked, run_async, settings, with_state
from app.db import session_scope
from app.errors import SecdigestError
from app.services import apikeys
from app.state import AppState


def cmd_keys(args: argparse.Namespace) -> int:
    """API keys: create (the key is printed once, its hash stored), list, revoke."""
    current = settings()
    migrate_if_asked(current)

    async def work(state: AppState) -> tuple[str, str]:
        # Returned from inside the unit of work: the commit happens before anything prints.
        async with session_scope(state.sessionmaker) as session:
            if args.keys_command == "create":
                new = await apikeys.create_key(session, name=args.name, scope=args.scope)
                # The key alone on stdout: `KEY=$(secdigest keys create ...)` captures it.
                return new.key, (
                    f"created key {args.name!r} ({args.scope}, prefix {new.record.prefix}): "
                    "store it now, it is not shown again\n"
                )
            if args.keys_command == "revoke":
                key = await apikeys.revoke_key(session, name=args.name)
                return f"revoked key {key.name!r} ({key.prefix})", ""
            return apikeys.key_table(await apikeys.list_keys(session)), ""

    try:
        out, note = run_async(with_state(current, work))
    except SecdigestError as exc:
        fail(exc)
        return 1
    print(out)
    sys.stderr.write(note)
    return 0
