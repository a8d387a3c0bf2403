"""Integers from a path, a query or a body that no column can hold answer a 4xx problem.

Every id column is an SQL `integer` (PostgreSQL int4; SQLite binds 64-bit integers and
raises OverflowError past them): an id past 2**31 - 1 reached the database as a 500 on
one backend or the other. The schema bounds them (app/schemas/ids.py) so that they never
get there. A job id that is no UUID is refused the same way (PostgreSQL refuses a NUL).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

PROBLEM = "application/problem+json"
# The largest value of an SQL `integer` column (PostgreSQL int4), every id column here.
SQL_INT_MAX = 2**31 - 1
DAY = "2024-12-06"
ITEMS = f"/reports/{DAY}/items"

# Past SQLite's 64-bit binding, past PostgreSQL's int4, and ids no row is ever given.
OUT_OF_RANGE = [2**63, -(2**63) - 1, 2**31, -1, 0]


async def _problem_4xx(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


async def _invalid(response: httpx.Response, where: str) -> None:
    body = await _problem_4xx(response)
    assert response.status_code == 422, response.text
    assert body["type"] == "/problems/invalid-request"
    assert any(where in error["loc"] for error in body["errors"]), body


@pytest.fixture
async def report_with_an_item(client: httpx.AsyncClient) -> int:
    """A report that exists, so an item lookup goes as far as it can: the item's id."""
    link = {"kind": "link", "title": "A link", "url": "https://news.example.org/1"}
    response = await client.post(ITEMS, json=link)
    assert response.status_code == 201, response.text
    item_id: int = response.json()["id"]
    return item_id


ID = object()  # where a route's id goes in its body


async def _send(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, value: int
) -> httpx.Response:
    """The request with the id in its path, or in its body's list where ID stands."""
    if body is not None:
        body = {
            k: [value if x is ID else x for x in v] if isinstance(v, list) else v
            for k, v in body.items()
        }
    return await client.request(method, path.format(id=value), json=body)


ID_ROUTES = [
    pytest.param("GET", "/feeds/{id}", None, "feed_id", id="get-feed"),
    pytest.param("DELETE", "/feeds/{id}", None, "feed_id", id="delete-feed"),
    # A valid id first: every entry of the list is judged, not just the first.
    pytest.param("POST", "/feeds/pull", {"ids": [1, ID]}, "ids", id="pull-ids"),
    pytest.param("GET", ITEMS + "/{id}", None, "item_id", id="get-item"),
    pytest.param("PATCH", ITEMS + "/{id}", {"title": "New title"}, "item_id", id="patch-item"),
    pytest.param("DELETE", ITEMS + "/{id}", None, "item_id", id="delete-item"),
]


@pytest.mark.usefixtures("report_with_an_item")
@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize(("method", "path", "body", "name"), ID_ROUTES)
async def test_an_out_of_range_id_is_an_invalid_request_not_a_server_error(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    name: str,
    value: int,
) -> None:
    response = await _send(client, method, path, body, value)

    await _invalid(response, name)
    # The service (and its database connection) goes on serving.
    assert (await client.get("/feeds")).status_code == 200


@pytest.mark.usefixtures("report_with_an_item")
@pytest.mark.parametrize(("method", "path", "body", "name"), ID_ROUTES)
async def test_the_largest_id_a_column_holds_is_simply_not_found(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, name: str
) -> None:
    # The bound is the column's range, not tighter: its last value reaches the lookup.
    if body is not None and "ids" in body:
        body = {"ids": [ID]}  # feed 1 does not exist either: only the id in question
    response = await _send(client, method, path, body, SQL_INT_MAX)

    problem = await _problem_4xx(response)
    assert response.status_code == 404, response.text
    assert problem["type"] == "/problems/not-found"


# Every other integer of a body that reaches SQL has a bound of its own (seconds between
# pulls, a place in a section): past it, or negative, is a 422 too.
INTEGER_FIELDS = [
    pytest.param(
        "POST", "/feeds", {"url": "https://feeds.example.org/rss"}, "interval", id="interval"
    ),
    pytest.param(
        "POST",
        ITEMS,
        {"kind": "link", "title": "T", "url": "https://e.org/2"},
        "position",
        id="new-link-position",
    ),
    pytest.param("POST", ITEMS, {"url": "https://e.org/3"}, "position", id="new-article-position"),
    pytest.param("PATCH", ITEMS + "/{id}", {}, "position", id="moved-item-position"),
]


@pytest.mark.parametrize("value", [2**63, 2**31, -1])
@pytest.mark.parametrize(("method", "path", "body", "field"), INTEGER_FIELDS)
async def test_an_out_of_range_integer_field_is_an_invalid_request(
    client: httpx.AsyncClient,
    report_with_an_item: int,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
    value: int,
) -> None:
    url = path.format(id=report_with_an_item)
    response = await client.request(method, url, json={**body, field: value})

    await _invalid(response, field)


@pytest.mark.parametrize(
    "path", ["/feeds/pull?wait={}", "/jobs/00000000-0000-0000-0000-000000000000?wait={}"]
)
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e309", str(2**63)])
async def test_an_out_of_range_wait_is_an_invalid_request(
    client: httpx.AsyncClient, path: str, value: str
) -> None:
    method = "POST" if path.startswith("/feeds") else "GET"
    response = await client.request(method, path.format(value))

    await _invalid(response, "wait")


@pytest.mark.parametrize(
    "job_id",
    ["%00", "a%00b", "x" * 5000, "9223372036854775808", "00000000-0000-0000-0000-00000000000%00"],
)
async def test_a_job_id_that_is_not_a_uuid_is_an_invalid_request_not_a_server_error(
    client: httpx.AsyncClient, job_id: str
) -> None:
    # PostgreSQL refuses NUL in text with an error of its own: it must never get there.
    response = await client.get(f"/jobs/{job_id}")

    await _invalid(response, "job_id")
    assert (await client.get("/jobs/00000000-0000-0000-0000-000000000000")).status_code == 404
