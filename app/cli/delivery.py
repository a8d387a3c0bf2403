"""`secdigest publish` and `secdigest webhooks add|list|remove|test`."""

from __future__ import annotations

import argparse
import sys

from app.cli._common import fail, migrate_if_asked, print_json, run_async, settings, with_state
from app.db import session_scope
from app.errors import SecdigestError
from app.schemas.delivery import WebhookCreated, WebhookRead, publication_read
from app.services import reports
from app.services.delivery import publish as publishing
from app.services.delivery import webhooks
from app.services.delivery.events import on_commit
from app.state import AppState
from app.tasks import deliver_now


async def _deliver_owed(state: AppState, owed: list[str]) -> None:
    """First attempts of what the command owes, from this process: no server or worker
    needs to run for a publish to arrive. A failure is retried by whichever runs next."""
    for delivery_id in owed:
        status = await deliver_now(state, delivery_id)
        sys.stderr.write(f"secdigest: delivery {delivery_id}: {status or 'left to the queue'}\n")


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish a day: a numbered publication, report.published, the e-mail."""
    current = settings()
    migrate_if_asked(current)

    async def work(state: AppState) -> int:
        owed: list[str] = []
        on_commit(owed.extend)
        try:
            async with session_scope(state.sessionmaker) as session:
                day = await reports.resolve_day(session, args.date, current.tz)
                published = await publishing.publish(session, current, day, source="cli")
        except SecdigestError as exc:
            fail(exc)
            return 1
        print_json(publication_read(published).model_dump(mode="json"))
        await _deliver_owed(state, owed)
        return 0

    return run_async(with_state(current, work))


def cmd_webhooks(args: argparse.Namespace) -> int:
    """Webhooks: add (prints the secret once), list, remove, test."""
    current = settings()
    migrate_if_asked(current)

    async def work(state: AppState) -> int:
        owed: list[str] = []
        on_commit(owed.extend)
        try:
            async with session_scope(state.sessionmaker) as session:
                if args.webhooks_command == "add":
                    hook = await webhooks.create_webhook(
                        session,
                        state.fetch_policy,
                        url=args.url,
                        events=args.events,
                        format=args.format,
                    )
                    print_json(WebhookCreated.model_validate(hook).model_dump(mode="json"))
                elif args.webhooks_command == "list":
                    for hook in await webhooks.list_webhooks(session):
                        print_json(WebhookRead.model_validate(hook).model_dump(mode="json"))
                elif args.webhooks_command == "remove":
                    await webhooks.delete_webhook(session, args.id)
                else:
                    print_json({"delivery_id": await webhooks.owe_test(session, args.id)})
        except SecdigestError as exc:
            fail(exc)
            return 1
        await _deliver_owed(state, owed)
        return 0

    return run_async(with_state(current, work))
