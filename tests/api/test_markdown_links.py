"""Through the API, a day fed hostile text (page, import, curation) links only to its sources."""

from __future__ import annotations

import html

import httpx

from tests.support.commonmark import href, read
from tests.support.site import FixtureSite, Route

DAY = "2024-12-06"
DEFINITION = '[.]: //evil.example/p1 "Organizations should patch their systems."'
PARAGRAPHS = [
    "Attackers behind the Ember loader sent fake update lures to logistics firms in three "
    "countries, and the loader then called its gate at evil.com to fetch a second stage.",
    DEFINITION,
    "The second stage collected browser credentials and sent them to 203.0.113.50 over "
    "HTTPS, according to the researchers who analysed the campaign this week.",
    "[dot]: //evil.example/p2 Organizations should restrict script execution on endpoints.",
    "Organizations should block evil.com and review outbound connections to unknown hosts.",
]
# A page whose own link reference definition also sits in its paragraphs.
PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ember loader</title>'
    "</head><body><article><h1>Ember loader hits logistics</h1>"
    + "".join(f"<p>{html.escape(p)}</p>" for p in PARAGRAPHS)
    + "</article></body></html>"
)


async def test_a_day_fed_hostile_text_everywhere_links_only_to_its_link_lines(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    site.routes["/hostile/definitions.html"] = Route(body=PAGE.encode("utf-8"))
    summarized = await client.post(
        "/summarize",
        json={"url": site.url("/hostile/definitions.html"), "date": DAY, "lang": "en"},
    )
    assert summarized.status_code == 200, summarized.text
    text = await client.post(
        "/summarize", json={"text": "\n\n".join(PARAGRAPHS), "title": DEFINITION, "date": DAY}
    )
    assert text.status_code == 200, text.text
    report = (await client.get(f"/reports/{DAY}")).json()
    items = [item for section in report["sections"] for item in section["items"]]
    assert len(items) == 2
    for item in items:
        patched = await client.patch(
            f"/reports/{DAY}/items/{item['id']}",
            json={
                "title": DEFINITION,
                "summary": [DEFINITION, "[/]: //evil.example/p3", "evil[.]com was the gate"],
                "recommendations": ["[:]: //evil.example/p4"],
                "other": ["[@]: //evil.example/p5", "<img src=x onerror=alert(1)>"],
                "model_recommendations": ["![.] [at]: //evil.example/p6"],
            },
        )
        assert patched.status_code == 200, patched.text
    link_url = "https://www.security-next.com/164989"
    added = await client.post(
        f"/reports/{DAY}/items",
        json={"kind": "link", "title": DEFINITION, "url": link_url, "section": "japan_incidents"},
    )
    assert added.status_code == 201, added.text

    markdown = (await client.get(f"/reports/{DAY}", params={"format": "md"})).text
    rendered = read(markdown)

    assert rendered.links == [href(link_url)]
    assert (rendered.images, rendered.html) == ([], [])
    # The indicators are there, as text.
    assert "evil[.]com" in rendered.text
    assert "203.0.113[.]50" in rendered.text


async def test_an_imported_digest_cannot_define_a_link(client: httpx.AsyncClient) -> None:
    body = (
        "# Daily Security Info\n\n### 日々のニュース要約\n\n#### An entry\n"
        "https://news.example.com/a\n\n- 要約\n    - \\[.\\]: //evil.example/p1\n"
        "- IOCの列挙\n    - evil[.]com\n    - \\<img src=x\\>\n"
    )
    imported = await client.put(
        f"/reports/{DAY}", content=body.encode(), headers={"Content-Type": "text/markdown"}
    )
    assert imported.status_code == 200, imported.text

    rendered = read((await client.get(f"/reports/{DAY}", params={"format": "md"})).text)

    assert (rendered.links, rendered.images, rendered.html) == ([], [], [])
    assert "evil[.]com" in rendered.text
