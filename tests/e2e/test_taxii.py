"""OASIS's taxii2-client against `secdigest serve` over HTTP: what a TIP's connector does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from requests.auth import AuthBase
from taxii2client.exceptions import AccessError
from taxii2client.v21 import Collection, Server, as_pages

from app.services.exports.taxii import COLLECTION_ID
from tests.support.databases import backends, migrated_database
from tests.support.paths import FIXTURES
from tests.support.processes import cli_env, run_cli, running_server
from tests.support.stix_days import big_day_markdown

TAXII = "application/taxii+json;version=2.1"


class BearerAuth(AuthBase):
    """`Authorization: Bearer <key>`, for clients configured with a token."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


@dataclass
class Running:
    base: str
    read_key: str
    write_key: str


def created_key(env: dict[str, str], name: str, scope: str) -> str:
    done = run_cli(["keys", "create", "--name", name, "--scope", scope], env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module", params=backends())
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """A server with the sample day and a 30-entry day, a read key and a write key (one
    per backend for the module: starting it and importing take seconds)."""
    tmp_path = tmp_path_factory.mktemp("taxii")
    with migrated_database(request.param, tmp_path) as database_url:
        yield from _serving(tmp_path, database_url)


def _serving(tmp_path: Path, database_url: str) -> Iterator[Running]:
    env = cli_env(
        tmp_path, SECDIGEST_RATE_LIMIT="100000/minute", SECDIGEST_DATABASE_URL=database_url
    )
    big = tmp_path / "big-day.md"
    big.write_text(big_day_markdown(30), encoding="utf-8")
    for path, day in ((FIXTURES / "daily-security-info.md", "2024-12-06"), (big, "2024-12-05")):
        done = run_cli(["import", str(path), "--date", day], env)
        assert done.returncode == 0, done.stderr
    read_key = created_key(env, "opencti", "read")
    write_key = created_key(env, "analyst", "write")
    with running_server(env) as (base, _process):
        yield Running(base, read_key, write_key)


def objects_of(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [made for page in pages for made in page.get("objects", [])]


@pytest.fixture
def server(running: Running) -> Iterator[Server]:
    """The TAXII server as taxii2-client sees it, signed in with HTTP Basic: any user name
    and the key as password, what OpenCTI's connector sends."""
    with Server(f"{running.base}/taxii2/", user="opencti", password=running.read_key) as server:
        yield server


def test_taxii2_client_reads_every_page_and_polls_what_changed(
    running: Running, server: Server
) -> None:
    assert server.title == "secdigest TAXII server"
    api_root = server.default
    assert api_root is not None
    assert api_root.versions == [TAXII]
    (collection,) = api_root.collections
    assert (collection.id, collection.can_read, collection.can_write) == (
        COLLECTION_ID,
        True,
        False,
    )

    pages = list(as_pages(collection.get_objects, per_request=50))
    served = objects_of(pages)
    assert len(pages) > 3
    assert all(len(page["objects"]) == 50 for page in pages[:-1])
    assert len({made["id"] for made in served}) == len(served)
    bundles = {
        made["id"]: made
        for day in ("2024-12-05", "2024-12-06")
        for made in httpx.get(
            f"{running.base}/reports/{day}?format=stix",
            headers={"Authorization": f"Bearer {running.read_key}"},
        ).json()["objects"]
    }
    assert {made["id"]: made for made in served} == bundles
    manifest = objects_of(list(as_pages(collection.get_manifest, per_request=50)))
    assert [record["id"] for record in manifest] == [made["id"] for made in served]
    latest = manifest[-1]["date_added"]
    assert collection.get_objects(added_after=latest) == {"more": False}

    # An analyst edits an entry: the next poll brings its report and what it cites, only.
    report = httpx.get(
        f"{running.base}/reports/2024-12-05",
        headers={"Authorization": f"Bearer {running.write_key}"},
    ).json()
    item = next(i for s in report["sections"] for i in s["items"] if i["iocs"])
    edited = httpx.patch(
        f"{running.base}/reports/2024-12-05/items/{item['id']}",
        json={"title": "Edited by an analyst"},
        headers={"Authorization": f"Bearer {running.write_key}"},
    )
    assert edited.status_code == 200, edited.text
    polled = objects_of(list(as_pages(collection.get_objects, per_request=50, added_after=latest)))
    (new_report,) = [made for made in polled if made["type"] == "report"]
    assert new_report["name"] == "Edited by an analyst"
    assert {made["id"] for made in polled} == {new_report["id"], *new_report["object_refs"]}
    assert new_report["id"] in {made["id"] for made in served}
    again = collection.get_objects(added_after=max(m["modified"] for m in polled))
    assert again == {"more": False}


def test_a_bearer_key_reads_the_same_collection(running: Running) -> None:
    url = f"{running.base}/taxii2/api/collections/{COLLECTION_ID}/"
    with Collection(url, auth=BearerAuth(running.read_key)) as collection:
        assert collection.title == "Daily Security Info"
        first = collection.get_objects(limit=5)
    assert len(first["objects"]) == 5
    assert first["more"] is True


def test_no_key_is_401_a_read_key_cannot_write_and_a_wrong_accept_is_406(
    running: Running,
) -> None:
    with (
        pytest.raises(requests.HTTPError) as missing,
        Server(f"{running.base}/taxii2/") as anonymous,
    ):
        _ = anonymous.title
    assert missing.value.response.status_code == 401
    wrong_key = Server(f"{running.base}/taxii2/", user="x", password="not-a-key")
    with pytest.raises(requests.HTTPError) as wrong, wrong_key:
        _ = wrong_key.title
    assert wrong.value.response.status_code == 401

    url = f"{running.base}/taxii2/api/collections/{COLLECTION_ID}/"
    # taxii2-client does not even try to write to a collection with can_write: false.
    writer = Collection(url, user="analyst", password=running.write_key)
    with pytest.raises(AccessError), writer:
        writer.add_objects({"objects": []})
    # Asked anyway: the read key is refused by the key check, the write key by the
    # read-only collection (in TAXII's error format).
    for key, media_type in (
        (running.read_key, "application/problem+json"),
        (running.write_key, TAXII),
    ):
        refused = httpx.post(
            f"{url}objects/",
            content=b'{"objects":[]}',
            headers={"Accept": TAXII, "Content-Type": TAXII},
            auth=("analyst", key),
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == media_type

    answer = httpx.get(
        f"{url}objects/",
        headers={"Accept": "application/json", "Authorization": f"Bearer {running.read_key}"},
    )
    assert answer.status_code == 406
    assert answer.headers["content-type"] == TAXII
    assert answer.json()["http_status"] == "406"
