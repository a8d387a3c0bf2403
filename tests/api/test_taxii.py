"""TAXII 2.1 under /taxii2/, in process: the collection is the days' bundles, paged and polled."""

from __future__ import annotations

import json
from typing import Any

import httpx

from app.services.exports.taxii import COLLECTION_ID
from tests.support.stix_days import big_day_markdown

MD = {"Content-Type": "text/markdown"}
TAXII = "application/taxii+json;version=2.1"
ACCEPT = {"Accept": TAXII}
ROOT = "/taxii2/api"
COLLECTION = f"{ROOT}/collections/{COLLECTION_ID}"


async def import_days(client: httpx.AsyncClient, sample_markdown: str) -> None:
    """The analysts' sample day and a 30-entry day with indicators."""
    for day, markdown in (("2024-12-06", sample_markdown), ("2024-12-05", big_day_markdown(30))):
        answer = await client.put(f"/reports/{day}", content=markdown.encode(), headers=MD)
        assert answer.status_code == 200, answer.text


async def every_page(client: httpx.AsyncClient, path: str, **params: str) -> list[httpx.Response]:
    """The answers of a paged TAXII endpoint, following `next` to the end."""
    answers = [await client.get(path, params={"limit": "50", **params}, headers=ACCEPT)]
    while json.loads(answers[-1].content).get("more"):
        cursor = json.loads(answers[-1].content)["next"]
        answers.append(
            await client.get(path, params={"limit": "50", **params, "next": cursor}, headers=ACCEPT)
        )
    return answers


def listed(answers: list[httpx.Response]) -> list[dict[str, Any]]:
    return [made for answer in answers for made in json.loads(answer.content).get("objects", [])]


async def test_the_collection_holds_the_objects_of_every_day_bundle(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await import_days(client, sample_markdown)
    bundles: dict[str, dict[str, Any]] = {}
    for day in ("2024-12-05", "2024-12-06"):
        for made in json.loads((await client.get(f"/reports/{day}?format=stix")).content)[
            "objects"
        ]:
            bundles[made["id"]] = made

    pages = await every_page(client, f"{COLLECTION}/objects/")
    served = listed(pages)

    assert {made["id"]: made for made in served} == bundles
    assert len(served) == len(bundles)  # each once: marking and identity too
    assert all(len(json.loads(page.content)["objects"]) == 50 for page in pages[:-1])
    for page in pages:
        assert page.headers["content-type"] == TAXII
        first, last = json.loads(page.content)["objects"][0], served[-1]
        assert page.headers["x-taxii-date-added-first"] == first.get("modified", first["created"])
        assert pages[-1].headers["x-taxii-date-added-last"] == last.get("modified", last["created"])
    manifest = listed(await every_page(client, f"{COLLECTION}/manifest/"))
    assert [record["id"] for record in manifest] == [made["id"] for made in served]
    assert {record["media_type"] for record in manifest} == {"application/stix+json;version=2.1"}


async def test_a_poll_after_an_edit_returns_only_the_new_versions(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await import_days(client, sample_markdown)
    pages = await every_page(client, f"{COLLECTION}/objects/")
    latest = pages[-1].headers["x-taxii-date-added-last"]
    nothing = await client.get(
        f"{COLLECTION}/objects/", params={"added_after": latest}, headers=ACCEPT
    )
    assert json.loads(nothing.content) == {"more": False}
    assert "x-taxii-date-added-first" not in nothing.headers

    report = (await client.get("/reports/2024-12-05")).json()
    item = next(i for s in report["sections"] for i in s["items"] if i["iocs"])
    edit = await client.patch(f"/reports/2024-12-05/items/{item['id']}", json={"title": "Edited"})
    assert edit.status_code == 200, edit.text

    polled = listed(await every_page(client, f"{COLLECTION}/objects/", added_after=latest))
    (edited,) = [made for made in polled if made["type"] == "report"]
    assert edited["name"] == "Edited"
    assert {made["id"] for made in polled} == {edited["id"], *edited["object_refs"]}
    versions = await client.get(f"{COLLECTION}/objects/{edited['id']}/versions/", headers=ACCEPT)
    assert json.loads(versions.content) == {"more": False, "versions": [edited["modified"]]}
    one = await client.get(f"{COLLECTION}/objects/{edited['id']}/", headers=ACCEPT)
    assert json.loads(one.content)["objects"] == [edited]


async def test_discovery_api_root_and_collections_describe_a_read_only_collection(
    client: httpx.AsyncClient,
) -> None:
    discovery = (await client.get("/taxii2/", headers=ACCEPT)).json()
    assert discovery["api_roots"] == ["http://localhost/taxii2/api/"]
    assert discovery["default"] == "http://localhost/taxii2/api/"
    root = (await client.get(f"{ROOT}/", headers=ACCEPT)).json()
    assert root["versions"] == [TAXII]
    (collection,) = (await client.get(f"{ROOT}/collections/", headers=ACCEPT)).json()["collections"]
    assert (collection["id"], collection["can_read"], collection["can_write"]) == (
        COLLECTION_ID,
        True,
        False,
    )
    by_alias = await client.get(f"{ROOT}/collections/daily/", headers=ACCEPT)
    assert by_alias.json() == collection


async def test_an_accept_without_taxii_2_1_is_406_in_taxii_error_format(
    client: httpx.AsyncClient,
) -> None:
    for accept in (
        "application/json",
        "text/html",
        "application/taxii+json;version=2.0",
        "application/taxii+json;version=2.1;q=0",
    ):
        answer = await client.get(f"{ROOT}/", headers={"Accept": accept})
        assert answer.status_code == 406, accept
        assert answer.headers["content-type"] == TAXII
        assert answer.json()["http_status"] == "406"
    for accept in ("application/taxii+json", "*/*", f"text/html, {TAXII};q=0.5"):
        assert (await client.get(f"{ROOT}/", headers={"Accept": accept})).status_code == 200


async def test_unknown_resources_and_bad_filters_are_taxii_errors(
    client: httpx.AsyncClient,
) -> None:
    for path, status in (
        ("/taxii2/other/", 404),
        (f"{ROOT}/collections/not-a-collection/objects/", 404),
        (f"{COLLECTION}/objects/indicator--00000000-0000-4000-8000-000000000000/", 404),
        (f"{ROOT}/status/2d086da7-4bdc-4f91-900e-d77486753710/", 404),
        (f"{COLLECTION}/objects/?limit=0", 400),
        (f"{COLLECTION}/manifest/?added_after=yesterday", 400),
        (f"{COLLECTION}/objects/?next=nonsense", 400),
    ):
        answer = await client.get(path, headers=ACCEPT)
        assert answer.status_code == status, path
        assert answer.headers["content-type"] == TAXII
        error = answer.json()
        assert error["http_status"] == str(status)
        assert error["title"]
        assert error["description"]


async def test_the_collection_is_read_only(client: httpx.AsyncClient) -> None:
    headers = {**ACCEPT, "Content-Type": TAXII}
    added = await client.post(f"{COLLECTION}/objects/", content=b'{"objects":[]}', headers=headers)
    assert added.status_code == 403
    assert added.json()["description"] == "this collection is read-only (can_write: false)"
    deleted = await client.delete(f"{COLLECTION}/objects/indicator--x/", headers=ACCEPT)
    assert deleted.status_code == 403
