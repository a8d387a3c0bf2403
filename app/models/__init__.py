"""ORM tables. Importing this package registers every table on Base.metadata."""

from app.models.apikey import ApiKey
from app.models.article import Article, ArticleIoc, Summary
from app.models.feed import Feed
from app.models.job import IdempotencyRecord, Job
from app.models.report import ChangeClock, Report, ReportItem

__all__ = [
    "ApiKey",
    "Article",
    "ArticleIoc",
    "ChangeClock",
    "Feed",
    "IdempotencyRecord",
    "Job",
    "Report",
    "ReportItem",
    "Summary",
]
