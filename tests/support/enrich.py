"""KEV and EPSS files served on loopback as CISA and FIRST serve them, for the enrich tests.

A test module that uses the fixtures binds them to its own names (`enrich_site =
sources.enrich_site`), which registers them there only: its `settings` then overrides the
suite's own (tests/conftest.py) with the sources' URLs on the loopback site.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from app.settings import Settings
from app.state import AppState
from tests.support.paths import FIXTURES
from tests.support.site import FixtureSite, Route, SiteServer

FILES = FIXTURES / "enrich"
KEV_BODY = (FILES / "known_exploited_vulnerabilities.json").read_bytes()
KEV_CUT = (FILES / "known_exploited_vulnerabilities-truncated.json").read_bytes()
EPSS_BODY = (FILES / "epss_scores-2025-06-01.csv.gz").read_bytes()
EPSS_CUT = (FILES / "epss_scores-2025-06-01-truncated.csv.gz").read_bytes()

KEV = "/feeds/known_exploited_vulnerabilities.json"
EPSS = "/epss_scores-current.csv.gz"  # redirects to the day's file, as FIRST's does
EPSS_DAY = "/epss_scores-2025-06-01.csv.gz"
KEV_TAG = '"kev-2025.06.01"'
MODIFIED = "Sun, 01 Jun 2025 15:02:11 GMT"


def kev_route(body: bytes = KEV_BODY, tag: str = KEV_TAG) -> Route:
    """The catalog as CISA serves it: JSON with an ETag and a Last-Modified."""
    headers = (("ETag", tag), ("Last-Modified", MODIFIED))
    return Route(body=body, content_type="application/json", headers=headers)


def epss_route(body: bytes = EPSS_BODY, tag: str = '"epss-2025-06-01"') -> Route:
    """The day's scores as FIRST's bucket serves them: gzip, validated by ETag."""
    return Route(body=body, content_type="application/x-gzip", headers=(("ETag", tag),))


def source_routes() -> dict[str, Route]:
    """The two sources as their sites serve them."""
    return {
        KEV: kev_route(),
        EPSS: Route(status=302, headers=(("Location", EPSS_DAY),)),
        EPSS_DAY: epss_route(),
    }


@pytest.fixture(scope="module")
def source_server() -> Iterator[FixtureSite]:
    """One loopback server for the module (stopping one takes half a second)."""
    with SiteServer(source_routes()) as running:
        yield running


@pytest.fixture
def enrich_site(source_server: FixtureSite) -> FixtureSite:
    """The sources' site with fresh routes and no requests seen (tests change routes)."""
    source_server.routes.clear()
    source_server.routes.update(source_routes())
    source_server.hits.clear()
    source_server.statuses.clear()
    return source_server


@pytest.fixture
def settings(settings: Settings, enrich_site: FixtureSite) -> Settings:
    """The test settings (loopback allowed) with the sources on the loopback site."""
    return settings.model_copy(
        update={"kev_url": enrich_site.url(KEV), "epss_url": enrich_site.url(EPSS)}
    )


def state_of(app: FastAPI) -> AppState:
    """What the running app holds (engine, sessions, HTTP client, fetch policy)."""
    state: AppState = app.state.secdigest
    return state
