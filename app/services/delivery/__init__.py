"""Delivery: the day's digest taken to people and to machines, reliably.

Public surface (modules imported by path, e.g. `from app.services.delivery import publish`):
- `publish`: `publish(session, settings, day, source=)` → `Published` (a numbered
  publication, `report.published` owed to the webhooks, the e-mail), `publish_due(...)`
  (SECDIGEST_PUBLISH_AT, claimed once per local date), `latest_publication`, `report_link`
- `events`: `Event`, `emit(session, event)` (a delivery per subscribed webhook, in the
  transaction of what happened), `owe_mail`, `on_commit(dispatch)`, the event types
- `items`: `announce_item(session, item, day)`: `item.added`
- `webhooks`: create (URL checked by the fetch guard), list, get, delete, disable,
  `owe_test`, `deliveries_of`
- `send`: `attempt(...)` (one leased attempt, its record, the retry or the end),
  `due_deliveries(session, now=)`
- `signing`: Standard Webhooks secrets, ids and signatures (pure)
- `slack`: `slack_messages(document, labels, title=, link=)`: the digest as Slack Block
  Kit messages for an incoming webhook, within Slack's limits (pure)
- `mail`: `parse_smtp_url(url)` → `SmtpTarget` (`SmtpSecurity`), `digest_message(...)`
  (the multipart e-mail of a day), `send_message(target, message, timeout=)`, `MailError`

The names below load on first use (PEP 562): importing the package costs nothing, and
aiosmtplib is loaded only by a process that sends mail.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from app.services.delivery.mail import (
        MailError,
        SmtpSecurity,
        SmtpTarget,
        digest_message,
        parse_smtp_url,
        send_message,
    )
    from app.services.delivery.slack import slack_messages

_HOMES = {
    "slack_messages": "slack",
    "MailError": "mail",
    "SmtpSecurity": "mail",
    "SmtpTarget": "mail",
    "digest_message": "mail",
    "parse_smtp_url": "mail",
    "send_message": "mail",
}

__all__ = [
    "MailError",
    "SmtpSecurity",
    "SmtpTarget",
    "digest_message",
    "parse_smtp_url",
    "send_message",
    "slack_messages",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once: later lookups do not come here
    return value
