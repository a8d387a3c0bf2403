"""A real HTTP server on loopback that serves fixture pages, and remembers every request."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "site"
FEEDS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"


@dataclass(frozen=True)
class Route:
    """What the server answers for one path."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before answering (a slow site)


@dataclass
class FixtureSite:
    """The running server: its base URL, its routes and the requests it has seen."""

    base_url: str
    routes: dict[str, Route]
    hits: Counter[str] = field(default_factory=Counter)
    # The status of each answer, by path, in order (a conditional GET answered 304...).
    statuses: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return f"{self.base_url}{path}"


def default_routes() -> dict[str, Route]:
    """Every fixture page, served the way real sites serve them."""

    def page(name: str, content_type: str) -> Route:
        return Route(body=(SITE_DIR / name).read_bytes(), content_type=content_type)

    return {
        "/news/english-news.html": page("english-news.html", "text/html; charset=utf-8"),
        # Japanese sites often send no charset in the header: the page's meta tag must win.
        "/jp/sjis.html": page("jp-sjis.html", "text/html"),
        "/jp/eucjp.html": page("jp-eucjp.html", "text/html"),
        "/jp/utf8-declared-sjis.html": page("jp-utf8-declared-sjis.html", "text/html"),
        "/news/slow.html": Route(
            body=(SITE_DIR / "english-news.html").read_bytes(),
            content_type="text/html; charset=utf-8",
            delay=1.0,
        ),
        "/moved": Route(status=302, headers=(("Location", "/news/english-news.html"),)),
        "/missing": Route(status=404, body=b"<h1>Not found</h1>"),
        "/image.png": Route(body=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png"),
        "/empty.html": Route(body=b"<html><body><nav>Home</nav></body></html>"),
        "/reports/ember-lynx.pdf": Route(body=_report_pdf(), content_type="application/pdf"),
        "/redirect-to-metadata": Route(
            status=302, headers=(("Location", "http://169.254.169.254/latest/meta-data/"),)
        ),
        **feed_routes(),
    }


def feed_routes() -> dict[str, Route]:
    """Feeds (RSS 1.0/2.0, Atom, broken, hostile) and the article pages their items link."""

    def served(name: str, content_type: str, *validators: tuple[str, str]) -> Route:
        return Route(
            body=(FEEDS_DIR / name).read_bytes(), content_type=content_type, headers=validators
        )

    html = "text/html; charset=utf-8"
    routes = {
        f"/feed-articles/{page.name}": served(f"articles/{page.name}", html)
        for page in sorted((FEEDS_DIR / "articles").glob("*.html"))
    }
    routes.update(
        {
            "/feeds/news.rss": served(
                "news.rss",
                "application/rss+xml; charset=utf-8",
                ("ETag", '"news-v1"'),
                ("Last-Modified", "Sun, 22 Nov 2026 07:45:00 GMT"),
            ),
            "/feeds/research.atom": served(
                "research.atom", "application/atom+xml", ("ETag", 'W/"research-v1"')
            ),
            # RSS 1.0 as Japanese news sites serve it: text/xml, validated by date only.
            "/feeds/jp-incidents.rdf": served(
                "jp-incidents.rdf",
                "text/xml; charset=utf-8",
                ("Last-Modified", "Wed, 25 Nov 2026 00:00:00 GMT"),
            ),
            "/feeds/malformed.rss": served("malformed.rss", "application/rss+xml"),
            "/feeds/not-a-feed": served("not-a-feed.html", html),
            "/feeds/billion-laughs.rss": served("billion-laughs.rss", "application/rss+xml"),
            "/feeds/blocked-items.rss": served("blocked-items.rss", "application/rss+xml"),
            # Named as the external DTD and entity of billion-laughs.rss: never fetched.
            "/feeds/evil.dtd": Route(body=b'<!ENTITY remote "fetched">', content_type="text/plain"),
        }
    )
    return routes


def not_modified(route: Route, request: Message) -> bool:
    """Whether a conditional GET matches the validators the route sends (if it sends any)."""
    validators = dict(route.headers)
    etag, modified = validators.get("ETag"), validators.get("Last-Modified")
    if etag and request.get("If-None-Match"):
        return etag in [tag.strip() for tag in request["If-None-Match"].split(",")]
    return bool(modified) and request.get("If-Modified-Since") == modified


def _report_pdf() -> bytes:
    from tests.support.pdf import make_pdf

    return make_pdf(
        [
            [
                "Ember Lynx: a logistics intrusion set",
                "Ember Lynx sends fake browser update lures to freight forwarders and",
                "warehouse operators. The loader contacts hxxps://update-check[.]net/gate.php",
                "and downloads its second stage from 45.137.21[.]9.",
                "",
                "Defenders should block these indicators at the proxy and patch CVE-2024-38077.",
            ],
            [
                "Appendix: the loader's SHA-256 is",
                "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea",
            ],
        ],
        title="Ember Lynx threat report",
        created="D:20241205093000+09'00'",
    )


class _Handler(BaseHTTPRequestHandler):
    site: FixtureSite

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.site.hits[path] += 1
        route = self.site.routes.get(path, Route(status=404, body=b"not found"))
        if route.status == 200 and not_modified(route, self.headers):
            route = Route(status=304, content_type=None, headers=route.headers)
        if route.delay:
            time.sleep(route.delay)
        self.site.statuses[path].append(route.status)
        self.send_response(route.status)
        if route.content_type:
            self.send_header("Content-Type", route.content_type)
        for name, value in route.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is for failures."""


class SiteServer:
    """Start and stop a FixtureSite in a background thread."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        handler = type("Handler", (_Handler,), {})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        port = self._server.server_address[1]
        self.site = FixtureSite(f"http://127.0.0.1:{port}", routes or default_routes())
        handler.site = self.site
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FixtureSite:
        self._thread.start()
        return self.site

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
