"""ORM tables. Importing this package registers every table on Base.metadata."""

from app.models.apikey import ApiKey
from app.models.article import Article, ArticleIoc, Summary
from app.models.feed import Feed
from app.models.job import IdempotencyRecord, Job
from app.models.report import Report, ReportItem

__all__ = [
    "ApiKey",
    "Article",
    "ArticleIoc",
    "Feed",
    "IdempotencyRecord",
    "Job",
    "Report",
    "ReportItem",
    "Summary",
]
