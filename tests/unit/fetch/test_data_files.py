"""fetch_page for data files (a JSON catalog, a gzip CSV): their types, bytes as they are."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.errors import FetchBlocked, NotAnArticle
from app.services.fetch import FetchPolicy, fetch_page, new_http_client
from app.services.fetch.netguard import AllowList
from tests.support.site import FixtureSite, Route, SiteServer

GZIP = gzip.compress(b"cve,epss,percentile\n", mtime=0)
DATA = frozenset({"application/json", "application/x-gzip"})
LOOPBACK = FetchPolicy(allow=AllowList.parse(["127.0.0.1"]), timeout=5.0)


@pytest.fixture(scope="module")
def data_site() -> Iterator[FixtureSite]:
    routes = {
        "/catalog.json": Route(body=b'{"count": 0}', content_type="application/json"),
        "/scores.csv.gz": Route(body=GZIP, content_type="application/x-gzip"),
        "/page.html": Route(body=b"<html><body>Error</body></html>"),
    }
    with SiteServer(routes) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client(user_agent="secdigest-test", timeout=5.0) as client:
        yield client


async def test_a_data_file_of_an_accepted_type_is_fetched_as_its_bytes(
    http: httpx.AsyncClient, data_site: FixtureSite
) -> None:
    url = data_site.url("/scores.csv.gz")

    page = await fetch_page(http, LOOPBACK, url=url, data_types=DATA)

    # Not sniffed as "binary", and not inflated: gzip is the file, not a Content-Encoding.
    assert (page.media_type, page.body) == ("application/x-gzip", GZIP)


@pytest.mark.parametrize("path", ["/catalog.json", "/scores.csv.gz"])
async def test_data_files_are_not_articles_to_a_page_fetch(
    http: httpx.AsyncClient, data_site: FixtureSite, path: str
) -> None:
    with pytest.raises(NotAnArticle):
        await fetch_page(http, LOOPBACK, url=data_site.url(path))


async def test_a_type_the_caller_did_not_name_is_refused_before_its_body(
    http: httpx.AsyncClient, data_site: FixtureSite
) -> None:
    with pytest.raises(NotAnArticle, match="serves text/html"):
        await fetch_page(http, LOOPBACK, url=data_site.url("/page.html"), data_types=DATA)


async def test_the_guard_applies_to_data_files(
    http: httpx.AsyncClient, data_site: FixtureSite
) -> None:
    closed = FetchPolicy(allow=AllowList.parse([]), timeout=5.0)

    with pytest.raises(FetchBlocked):
        await fetch_page(http, closed, url=data_site.url("/catalog.json"), data_types=DATA)
