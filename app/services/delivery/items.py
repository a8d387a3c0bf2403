"""`item.added`: a feed or a user added an entry to a day's report.

Called by the orchestrators that add entries (the pipeline, curation's links), in their
transaction: the event is owed exactly when the entry is written.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ReportItem
from app.models.types import utcnow
from app.services.delivery.events import ITEM_ADDED, Event, emit
from app.services.markdown import labels_for
from app.services.reports import item_to_document
from app.services.reports.document import ReportDocument
from app.settings import get_settings


async def announce_item(session: AsyncSession, item: ReportItem, day: date) -> None:
    """Owe `item.added` to the webhooks subscribed to it (none: one indexed read)."""
    entry = item_to_document(item)
    data = {
        "date": day.isoformat(),
        "item_id": item.id,
        "section": item.section,
        "kind": item.kind,
        "title": item.title,
        "url": item.url,
        "iocs": [
            {"type": ioc.type, "value": ioc.value, "flags": list(ioc.flags)} for ioc in entry.iocs
        ],
    }

    def slack() -> list[dict[str, object]]:
        from app.services.delivery.slack import slack_messages  # noqa: PLC0415

        settings = get_settings()
        labels = labels_for(settings.lang, settings.model_recommendations_label)
        document = ReportDocument(day=day, items=[entry])
        return slack_messages(document, labels, title=f"{document.title} {day.isoformat()}")

    await emit(session, Event(type=ITEM_ADDED, data=data, timestamp=utcnow(), slack=slack))
