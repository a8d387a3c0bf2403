"""ORM tables. Importing this package registers every table on Base.metadata."""

from app.models.apikey import ApiKey
from app.models.article import Article, ArticleIoc, Summary
from app.models.delivery import (
    Delivery,
    DeliveryAttempt,
    Publication,
    ScheduledPublish,
    Webhook,
)
from app.models.enrichment import EnrichmentSource, EpssScore, KevEntry
from app.models.feed import Feed
from app.models.indicator import Indicator, Sighting
from app.models.job import IdempotencyRecord, Job
from app.models.report import ChangeClock, Report, ReportItem
from app.models.search import SearchDocument

__all__ = [
    "ApiKey",
    "Article",
    "ArticleIoc",
    "ChangeClock",
    "Delivery",
    "DeliveryAttempt",
    "EnrichmentSource",
    "EpssScore",
    "Feed",
    "IdempotencyRecord",
    "Indicator",
    "Job",
    "KevEntry",
    "Publication",
    "Report",
    "ReportItem",
    "ScheduledPublish",
    "SearchDocument",
    "Sighting",
    "Summary",
    "Webhook",
]
