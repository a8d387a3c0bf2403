"""The digest in Markdown: one renderer (Jinja2 templates) and one parser, inverse of each other."""

from app.services.markdown.labels import Labels, labels_for
from app.services.markdown.parse import parse_report
from app.services.markdown.render import render_item, render_report

__all__ = ["Labels", "labels_for", "parse_report", "render_item", "render_report"]
