"""Cache hits of `GET /reports` and `GET /reports/{day}`, answered before routing.

The frontend and the analysts read far more than anyone writes. A read whose bytes are
cached (and whose day has not changed: the change clock, app/clock.py) is answered here,
after the key check and before FastAPI's routing and dependency resolution, which cost
more than the rest of such a read. Anything else (a miss, a parameter this path does not
read exactly as the route does, an error) goes on to the route, which answers it, renders
and caches. Both read their parameters through the same functions (app/http/conditional).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import SecdigestError
from app.http.conditional import accepts_gzip, answer, not_modified, wanted_format
from app.http.headers import header_value
from app.http.security import route_path
from app.services.markdown import labels_for
from app.services.reports.reads import Rendered, Representation
from app.state import AppState

_PREFIX = "/reports/"
_LANGS = ("ja", "en")
_FORMATS = ("md", "json")


class CachedReadsMiddleware:
    """Serve cached days and the cached list of days without routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        day = path[len(_PREFIX) :] if path.startswith(_PREFIX) else None
        if path != "/reports" and (not day or "/" in day):
            await self.app(scope, receive, send)
            return
        try:
            hit = await self._hit(scope, day)
        except SecdigestError:
            hit = None  # the route answers it, with its problem+json
        if hit is None:
            await self.app(scope, receive, send)
            return
        representation, rendered = hit
        status, headers, body = answer(
            representation, rendered, header_value(scope, b"if-none-match")
        )
        raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()
        ]
        if status == 200:
            raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    async def _hit(
        self, scope: Scope, day: str | None
    ) -> tuple[Representation, Rendered | None] | None:
        state: AppState = scope["app"].state.secdigest
        gzip_ok = accepts_gzip(header_value(scope, b"accept-encoding"))
        if day is None:
            rendered = await state.reports.days(gzip_ok=gzip_ok)
            return rendered.representation, rendered
        # Blank values kept: `?lang=` is the route's 422, not the default language.
        query = parse_qs(
            bytes(scope.get("query_string", b"")).decode("latin-1"), keep_blank_values=True
        )
        formats, langs = query.get("format", []), query.get("lang", [])
        # Exactly what the route accepts, or the route: it validates and explains (and
        # renders the other views of a day: new_only, the exports).
        if len(formats) > 1 or len(langs) > 1 or "new_only" in query:
            return None
        format_ = formats[0] if formats else None
        lang = langs[0] if langs else state.settings.lang
        if lang not in _LANGS:
            return None
        wanted = wanted_format(format_, header_value(scope, b"accept"))
        if wanted not in _FORMATS:
            return None  # an export: the route renders it (and caches it)
        markdown = wanted == "md"
        labels = labels_for(lang, state.settings.model_recommendations_label)
        representation = await state.reports.day_representation(
            day, tz=state.settings.tz, markdown=markdown, lang=lang, labels=labels
        )
        if not_modified(header_value(scope, b"if-none-match"), representation.etag):
            return representation, None  # a 304: no body needed
        cached = await state.reports.cached(representation, gzip_ok=gzip_ok)
        if cached is None:
            return None  # rendered by the route
        return representation, cached
