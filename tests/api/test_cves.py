"""CVE context: KEV and EPSS files served on loopback (real HTTP), updated, and read back.

The files are fetched through the guarded fetch with conditional GET; a truncated file is
refused whole and the old rows stay; GET /cves/{id} answers the context and the entries
citing the CVE, with nulls when nothing is loaded. The schedule and the command:
test_enrich_schedule.py.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.db import session_scope
from app.models import EpssScore, KevEntry
from app.services import enrich
from app.services.enrich import CveContext, EpssContext, KevContext, SourceOutcome
from app.settings import Settings
from app.state import AppState
from tests.support import enrich as sources
from tests.support.enrich import (
    EPSS,
    EPSS_CUT,
    EPSS_DAY,
    KEV,
    KEV_CUT,
    epss_route,
    kev_route,
    state_of,
)
from tests.support.site import FixtureSite, Route

# The sources on a loopback site (one per module); `settings` overrides the suite's own.
source_server = sources.source_server
enrich_site = sources.enrich_site
settings = sources.settings

LOG4SHELL = {
    "id": "CVE-2021-44228",
    "kev": {
        "date_added": "2021-12-10",
        "due_date": "2021-12-24",
        "known_ransomware_campaign_use": "Known",
    },
    "epss": {"score": 0.94358, "percentile": 0.99992, "date": "2025-06-01"},
}
STORY = (
    "Attackers are still exploiting CVE-2021-44228 in unpatched Log4j deployments, and a "
    "new wave also targets CVE-2024-38077 in remote desktop licensing servers. "
) * 4


async def update(
    app: FastAPI, *names: str, settings: Settings | None = None
) -> list[SourceOutcome]:
    """`enrich update` through the service, with the app's clients and fetch policy."""
    state = state_of(app)
    async with session_scope(state.sessionmaker) as session:
        return await enrich.update_sources(
            session,
            state.http,
            state.fetch_policy,
            settings=settings or state.settings,
            names=names or enrich.SOURCES,
        )


async def cite(client: httpx.AsyncClient, text: str, *, day: str, title: str) -> int:
    """An entry of `day`'s report from a text; its item id."""
    body = {"text": text, "title": title, "date": day, "lang": "en", "section": "daily_news"}
    response = await client.post("/summarize", json=body)
    assert response.status_code == 200, response.text
    item_id: int = response.json()["report"]["item_id"]
    return item_id


async def cve(client: httpx.AsyncClient, cve_id: str) -> dict[str, object]:
    response = await client.get(f"/cves/{cve_id}")
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


# ---------------------------------------------------------------------------- offline first


async def test_without_data_a_cve_answers_nulls_and_no_articles(
    client: httpx.AsyncClient,
) -> None:
    assert await cve(client, "CVE-2021-44228") == {
        "id": "CVE-2021-44228",
        "kev": None,
        "epss": None,
        "articles": [],
    }


@pytest.mark.parametrize(
    "cve_id",
    [
        "CVE-2021-442",
        "CVE-21-44228",
        "CVE-2021-١٢٣٤٥",
        "CVE-2021-" + "1" * 21,
        "44228",
        "CVE-2021-44228x",
        "CVE-2021-44228%00",
    ],
)
async def test_an_id_that_is_not_a_cve_id_is_refused_with_a_problem(
    client: httpx.AsyncClient, cve_id: str
) -> None:
    response = await client.get(f"/cves/{cve_id}")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid-request"


async def test_a_broken_first_download_leaves_every_cve_null(
    app: FastAPI, client: httpx.AsyncClient, enrich_site: FixtureSite
) -> None:
    enrich_site.routes[KEV] = kev_route(KEV_CUT)
    enrich_site.routes[EPSS_DAY] = epss_route(EPSS_CUT)

    outcomes = await update(app)

    assert [(o.name, o.status, o.rows) for o in outcomes] == [
        ("kev", "failed", 0),
        ("epss", "failed", 0),
    ]
    assert (await cve(client, "CVE-2021-44228"))["kev"] is None


# ---------------------------------------------------------------------------- update, read


async def test_an_update_loads_both_sources_and_a_cve_answers_its_context_and_citing_entries(
    app: FastAPI, client: httpx.AsyncClient, enrich_site: FixtureSite
) -> None:
    older = await cite(client, STORY, day="2025-06-01", title="Log4Shell, again")
    newer = await cite(client, "Today: " + STORY, day="2025-06-02", title="Licensing servers")
    # A longer id that starts with the same digits is another CVE.
    await cite(client, STORY.replace("44228", "442289"), day="2025-06-03", title="Other")

    outcomes = await update(app)

    assert [(o.name, o.status, o.rows, o.version) for o in outcomes] == [
        ("kev", "updated", 5, "2025.06.01"),
        ("epss", "updated", 8, "v2025.03.14"),
    ]
    assert enrich_site.statuses[EPSS] == [302]  # FIRST's redirect, followed (and checked)
    answer = await cve(client, "cve-2021-44228")
    assert {key: answer[key] for key in ("id", "kev", "epss")} == LOG4SHELL
    assert answer["articles"] == [
        {
            "date": "2025-06-02",
            "item_id": newer,
            "title": "Licensing servers",
            "url": None,
            "section": "daily_news",
        },
        {
            "date": "2025-06-01",
            "item_id": older,
            "title": "Log4Shell, again",
            "url": None,
            "section": "daily_news",
        },
    ]
    not_in_kev = await cve(client, "CVE-2024-38077")
    assert not_in_kev["kev"] is None
    assert not_in_kev["epss"] == {"score": 0.06418, "percentile": 0.90482, "date": "2025-06-01"}


async def test_an_entry_whose_cve_was_curated_away_no_longer_cites_it(
    client: httpx.AsyncClient,
) -> None:
    kept = await cite(client, STORY, day="2025-06-01", title="Log4Shell, again")
    curated = await cite(client, "Today: " + STORY, day="2025-06-02", title="Licensing servers")
    path = f"/reports/2025-06-02/items/{curated}"
    item = (await client.get(path)).json()
    others = [ioc for ioc in item["iocs"] if ioc["value"] != "CVE-2021-44228"]
    assert len(others) == len(item["iocs"]) - 1

    patched = await client.patch(path, json={"iocs": others})

    assert patched.status_code == 200, patched.text
    citing = await cve(client, "CVE-2021-44228")
    assert [(a["date"], a["item_id"]) for a in citing["articles"]] == [("2025-06-01", kept)]
    # The entry's other CVE still cites it.
    still = await cve(client, "CVE-2024-38077")
    assert [a["item_id"] for a in still["articles"]] == [curated, kept]


async def test_cve_context_answers_every_id_given_in_two_queries(app: FastAPI) -> None:
    await update(app)

    async with state_of(app).read_sessionmaker() as session:
        context = await enrich.cve_context(
            session, ["cve-2021-44228", "CVE-2024-38077", "CVE-2099-0001", "not a CVE"]
        )

    assert context == {
        "CVE-2021-44228": CveContext(
            kev=KevContext(
                date_added="2021-12-10",
                due_date="2021-12-24",
                known_ransomware_campaign_use="Known",
            ),
            epss=EpssContext(score=0.94358, percentile=0.99992, date="2025-06-01"),
        ),
        "CVE-2024-38077": CveContext(
            kev=None, epss=EpssContext(score=0.06418, percentile=0.90482, date="2025-06-01")
        ),
        "CVE-2099-0001": CveContext(kev=None, epss=None),
        "NOT A CVE": CveContext(kev=None, epss=None),
    }


async def test_a_second_update_is_a_304_that_keeps_the_data_and_costs_one_request_each(
    app: FastAPI, client: httpx.AsyncClient, enrich_site: FixtureSite
) -> None:
    await update(app)

    again = await update(app)

    assert [(o.name, o.status, o.rows) for o in again] == [
        ("kev", "unchanged", 5),
        ("epss", "unchanged", 8),
    ]
    assert enrich_site.statuses[KEV] == [200, 304]
    assert enrich_site.statuses[EPSS_DAY] == [200, 304]
    assert (await cve(client, "CVE-2021-44228"))["kev"] == LOG4SHELL["kev"]


@pytest.mark.parametrize(
    ("source", "path", "cut", "message"),
    [
        ("kev", KEV, kev_route(KEV_CUT, '"kev-cut"'), "not valid JSON (cut short?)"),
        ("epss", EPSS_DAY, epss_route(EPSS_CUT, '"epss-cut"'), "ends before its end (truncated)"),
    ],
)
async def test_a_truncated_file_is_refused_whole_and_the_old_data_stays(
    app: FastAPI,
    client: httpx.AsyncClient,
    enrich_site: FixtureSite,
    source: str,
    path: str,
    cut: Route,
    message: str,
) -> None:
    await update(app)
    whole = enrich_site.routes[path]
    enrich_site.routes[path] = cut

    (failed,) = await update(app, source)

    assert (failed.status, failed.rows) == ("failed", 5 if source == "kev" else 8)
    assert failed.error is not None
    assert failed.error.startswith("catalog-refused: ")
    assert message in failed.error
    assert {key: (await cve(client, "CVE-2021-44228"))[key] for key in ("kev", "epss")} == {
        "kev": LOG4SHELL["kev"],
        "epss": LOG4SHELL["epss"],
    }
    # The validators of the rows kept are still sent: the good file again is a 304.
    enrich_site.routes[path] = whole
    (recovered,) = await update(app, source)
    assert (recovered.status, recovered.error) == ("unchanged", None)
    async with state_of(app).read_sessionmaker() as session:
        status = {s.name: s for s in await enrich.source_status(session)}[source]
    assert (status.status, status.last_error) == ("unchanged", None)


async def test_two_updates_at_once_both_end_with_the_whole_new_file(app: FastAPI) -> None:
    # The CLI beside the schedule: the second swap waits for the first (a row lock on
    # PostgreSQL, the writer lock on SQLite) instead of inserting beside its rows.
    both = await asyncio.gather(update(app), update(app))

    # The second may start after the first committed: then its conditional GET is a 304.
    for outcomes in both:
        assert [(o.name, o.rows) for o in outcomes] == [("kev", 5), ("epss", 8)]
        assert {o.status for o in outcomes} <= {"updated", "unchanged"}
    assert "updated" in {o.status for o in both[0] + both[1]}
    async with state_of(app).sessionmaker() as session:
        kev = await session.scalar(sa.select(sa.func.count()).select_from(KevEntry))
        epss = await session.scalar(sa.select(sa.func.count()).select_from(EpssScore))
    assert (kev, epss) == (5, 8)  # the whole file once, never two copies side by side


async def test_validators_of_another_url_are_not_sent(
    app: FastAPI, enrich_site: FixtureSite
) -> None:
    await update(app, "kev")
    enrich_site.routes["/mirror/kev.json"] = kev_route()
    mirror = state_of(app).settings.model_copy(
        update={"kev_url": enrich_site.url("/mirror/kev.json")}
    )

    (outcome,) = await update(app, "kev", settings=mirror)

    assert (outcome.status, enrich_site.statuses["/mirror/kev.json"]) == ("updated", [200])


async def test_an_html_page_in_place_of_a_file_is_refused_before_its_body(
    app: FastAPI, enrich_site: FixtureSite
) -> None:
    enrich_site.routes[KEV] = Route(body=b"<html><body>Service unavailable</body></html>")

    (outcome,) = await update(app, "kev")

    assert outcome.status == "failed"
    assert outcome.error == "not-an-article: the URL serves text/html, not a readable page"


async def test_the_fetch_guard_applies_to_the_sources(
    settings: Settings, enrich_site: FixtureSite, app: FastAPI
) -> None:
    # Loopback is not allowed here: the guard refuses before any connection.
    guarded = AppState.open(settings.model_copy(update={"fetch_allow": []}))
    try:
        async with session_scope(guarded.sessionmaker) as session:
            outcomes = await enrich.update_sources(
                session, guarded.http, guarded.fetch_policy, settings=guarded.settings
            )
    finally:
        await guarded.close()

    assert [o.error.split(":")[0] if o.error else None for o in outcomes] == [
        "fetch-blocked",
        "fetch-blocked",
    ]
    assert not enrich_site.hits
