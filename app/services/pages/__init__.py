"""A day's digest as one self-contained HTML page: to read in a browser, print, or mail.

Public surface:
- `html`: `render_day_html(document, labels, *, lang, previous_day, next_day)` (pure: the
  page as text), `CONTENT_SECURITY_POLICY` (the policy it is written for: its own inline
  style and script by hash, nothing else), `MEDIA_TYPE`, `web_url` (what may be an href)
- `day`: `render_day_page(session, state, labels, *, lang)` (the page of a day's state,
  its neighbours included: what the read cache renders), `neighbour_days(session, day)`

Nothing here touches HTTP: the router sends the policy and the other headers.
"""

from app.services.pages.day import neighbour_days, render_day_page
from app.services.pages.html import (
    CONTENT_SECURITY_POLICY,
    MEDIA_TYPE,
    render_day_html,
    web_url,
)

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "MEDIA_TYPE",
    "neighbour_days",
    "render_day_html",
    "render_day_page",
    "web_url",
]
