"""POST /summarize against real pages served on loopback."""

from __future__ import annotations

import httpx

from tests.support.site import FixtureSite

ENGLISH = "/news/english-news.html"
SJIS = "/jp/sjis.html"


async def test_english_article_gives_title_refanged_iocs_and_no_boilerplate(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url(ENGLISH)})

    assert response.status_code == 200
    article = response.json()
    assert article["original_title"] == "Ember Lynx Targets Logistics Firms With Fake Update Lures"
    assert article["engine"] == "offline"
    assert article["model_recommendations"] == []
    assert article["published"].startswith("2024-")
    values = {(i["type"], i["value"]) for i in article["iocs"]}
    assert ("url", "https://update-check.net/gate.php") in values
    assert ("ipv4", "45.137.21.9") in values
    assert ("domain", "evil-cdn.com") in values
    assert ("email", "ops@mail-relay.top") in values
    assert ("cve", "CVE-2024-38077") in values
    assert article["cves"] == ["CVE-2024-38077"]
    assert article["usage"] == {}
    assert article["summary_reused"] is False
    # The commenter's address and the site's contact e-mail are boilerplate, not evidence.
    assert not any("commenter" in v or "198.51.100" in v for _, v in values)
    assert not any(t == "email" and v != "ops@mail-relay.top" for t, v in values)
    assert 3 <= len(article["summary"]) <= 6
    assert any("should" in r for r in article["recommendations"])
    assert article["report"]["section"] == "daily_news"


async def test_shift_jis_page_without_header_charset_decodes(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url(SJIS)})

    assert response.status_code == 200
    article = response.json()
    assert article["lang"] == "ja"
    assert "ランサムウェア" in article["original_title"]
    assert all("\ufffd" not in bullet for bullet in article["summary"])
    assert {"type": "domain", "value": "malicious-site.jp"}.items() <= next(
        i for i in article["iocs"] if i["type"] == "domain"
    ).items()
    assert any("推奨" in r for r in article["recommendations"])


async def test_resubmitting_a_url_returns_the_stored_result_without_fetching(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    url = site.url(ENGLISH) + "?utm_source=newsletter"
    first = (await client.post("/summarize", json={"url": url})).json()
    fetched = site.hits[ENGLISH]

    again = await client.post("/summarize", json={"url": site.url(ENGLISH)})

    assert again.status_code == 200
    assert again.json()["cached"] is True
    assert again.json()["id"] == first["id"]
    assert site.hits[ENGLISH] == fetched


async def test_force_fetches_again_and_keeps_one_report_item(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    first = (await client.post("/summarize", json={"url": site.url(ENGLISH)})).json()
    fetched = site.hits[ENGLISH]

    forced = (
        await client.post("/summarize", json={"url": site.url(ENGLISH), "force": True})
    ).json()

    assert site.hits[ENGLISH] == fetched + 1
    assert forced["cached"] is False
    assert forced["id"] == first["id"]
    report = (await client.get(f"/reports/{first['report']['date']}")).json()
    assert report["item_count"] == 1


async def test_redirects_are_followed_and_the_final_url_kept(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url("/moved")})

    assert response.status_code == 200
    assert response.json()["final_url"] == site.url(ENGLISH)


async def test_html_and_text_bodies_skip_the_fetch(client: httpx.AsyncClient) -> None:
    html = (
        "<html><head><title>Patch now</title></head><body><nav>Home | News</nav><article>"
        "<h1>Patch now</h1><p>Attackers exploit CVE-2024-1234 in the wild against VPN "
        "appliances. The payload calls back to hxxp://c2-panel[.]info/api.</p>"
        "<p>Administrators should update to version 7.2 immediately.</p></article></body></html>"
    )
    from_html = await client.post("/summarize", json={"html": html, "date": "2024-12-06"})
    text = "A new stealer spreads through cracked software. It exfiltrates to 91.92.241[.]10."
    from_text = await client.post(
        "/summarize", json={"text": text * 2, "title": "Stealer", "date": "2024-12-06"}
    )

    assert from_html.status_code == 200, from_html.text
    assert from_html.json()["original_title"] == "Patch now"
    assert {"url", "cve"} <= {i["type"] for i in from_html.json()["iocs"]}
    assert "Home | News" not in " ".join(from_html.json()["summary"])
    assert from_text.status_code == 200, from_text.text
    assert from_text.json()["iocs"][0]["value"] == "91.92.241.10"
    report = (await client.get("/reports/2024-12-06")).json()
    assert report["item_count"] == 2


async def test_markdown_answer_is_the_entry_block_with_defanged_iocs(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post(
        "/summarize",
        json={"url": site.url(ENGLISH)},
        headers={"Accept": "text/markdown"},
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    lines = response.text.splitlines()
    assert lines[0] == "#### Ember Lynx Targets Logistics Firms With Fake Update Lures"
    assert lines[1] == site.url(ENGLISH)
    assert "    - hxxps://update-check[.]net/gate.php" in lines
    assert "https://update-check.net" not in response.text


async def test_batch_of_urls_reports_each_failure_in_place(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post(
        "/summarize", json={"urls": [site.url(ENGLISH), site.url("/missing"), site.url(SJIS)]}
    )

    assert response.status_code == 200
    first, failed, third = response.json()
    assert first["engine"] == "offline"
    assert failed == {
        "url": site.url("/missing"),
        "problem": {
            "type": "/problems/fetch-failed",
            "title": "The site answered badly or not at all",
            "status": 502,
            "detail": "127.0.0.1 answered 404 Not Found",
            "upstream_status": 404,
        },
    }
    assert third["lang"] == "ja"
    report = (await client.get(f"/reports/{first['report']['date']}")).json()
    assert report["item_count"] == 2


async def test_section_and_date_options_place_the_item(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post(
        "/summarize",
        json={"url": site.url(SJIS), "section": "japan_incidents", "date": "2024-12-05"},
    )

    assert response.json()["report"] == {
        "date": "2024-12-05",
        "item_id": response.json()["report"]["item_id"],
        "section": "japan_incidents",
    }
    report = (await client.get("/reports/2024-12-05")).json()
    sections = {s["key"]: s for s in report["sections"]}
    (incident,) = sections["japan_incidents"]["items"]
    assert sections["japan_incidents"]["heading"] == "日本のインシデント事例"
    # The digest lists incidents as links; the item still carries the summary for JSON.
    assert incident["kind"] == "link"
    assert incident["summary"] == response.json()["summary"]
    markdown = (await client.get("/reports/2024-12-05?format=md")).text
    assert f"### 日本のインシデント事例\n- [{incident['title']}]({site.url(SJIS)})\n" in markdown


async def test_own_site_and_benign_names_are_flagged_in_json_and_left_out_of_markdown(
    client: httpx.AsyncClient,
) -> None:
    html = (
        "<html><body><article><h1>Loader campaign</h1><p>The loader talks to evil-c2.top "
        "and resolves through 8.8.8.8 while fetching tools from github.com. Subscribe to "
        "www.securitynews.co.uk for more reports on this threat actor and its malware.</p>"
        "</article></body></html>"
    )
    body = {"html": html, "url": "https://www.securitynews.co.uk/2024/loader"}

    article = (await client.post("/summarize", json=body)).json()
    block = (await client.post("/summarize?format=md", json=body)).text

    flags = {i["value"]: i["flags"] for i in article["iocs"]}
    assert flags == {
        "evil-c2.top": [],
        "8.8.8.8": ["benign"],
        "github.com": ["benign"],
        "www.securitynews.co.uk": ["source-site"],
    }
    ioc_lines = block.split("- IOCの列挙\n", 1)[1].split("\n- ", 1)[0]
    assert ioc_lines == "    - evil-c2[.]top"


async def test_pdf_threat_report_is_summarized_like_a_page(
    client: httpx.AsyncClient, site: FixtureSite
) -> None:
    response = await client.post("/summarize", json={"url": site.url("/reports/ember-lynx.pdf")})

    assert response.status_code == 200, response.text
    article = response.json()
    assert article["original_title"] == "Ember Lynx threat report"
    assert article["published"].startswith("2024-12-05T09:30:00+09:00")
    values = {(i["type"], i["value"]) for i in article["iocs"]}
    assert {
        ("url", "https://update-check.net/gate.php"),
        ("ipv4", "45.137.21.9"),
        ("cve", "CVE-2024-38077"),
        ("sha256", "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"),
    } <= values
    assert any("block" in r.lower() for r in article["recommendations"])
