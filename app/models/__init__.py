"""ORM tables. Importing this package registers every table on Base.metadata."""

from app.models.article import Article, ArticleIoc, Summary
from app.models.report import Report, ReportItem

__all__ = ["Article", "ArticleIoc", "Report", "ReportItem", "Summary"]
