"""Reports: import the sample, read it back as Markdown and JSON, list days."""

from __future__ import annotations

import httpx

MD = {"Content-Type": "text/markdown"}


async def test_imported_sample_renders_back_byte_for_byte(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    put = await client.put("/reports/2024-12-06", content=sample_markdown.encode(), headers=MD)
    assert put.status_code == 200, put.text

    response = await client.get("/reports/2024-12-06", headers={"Accept": "text/markdown"})

    assert response.headers["content-type"].startswith("text/markdown")
    # The sample's bytes and one final newline, which the sample has not (report-format.md).
    assert not sample_markdown.endswith("\n")
    assert response.content == sample_markdown.encode() + b"\n"


async def test_report_json_has_every_section_in_order(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await client.put("/reports/2024-12-06", content=sample_markdown.encode(), headers=MD)

    report = (await client.get("/reports/2024-12-06")).json()

    assert [s["key"] for s in report["sections"]] == [
        "tools",
        "malware_campaign",
        "security_report",
        "cybercrime_topics",
        "daily_news",
        "japan_incidents",
        "memos",
    ]
    assert report["item_count"] == 8
    news = report["sections"][4]
    assert news["heading"] == "日々のニュース要約"
    assert news["items"][1]["title"].startswith("米国、通信ハッキング")
    memo = report["sections"][6]["items"][0]
    assert memo["kind"] == "link"
    assert memo["url"] == "https://x.com/1ZRR4H/status/1864756380197921130"


async def test_importing_again_replaces_the_day(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    await client.put("/reports/2024-12-06", content=sample_markdown.encode(), headers=MD)
    smaller = "# Daily Security Info\n\n### その他のメモ\n- [One](https://a.example/1)\n"

    await client.put("/reports/2024-12-06", content=smaller.encode(), headers=MD)

    report = (await client.get("/reports/2024-12-06")).json()
    assert report["item_count"] == 1


async def test_list_is_newest_first_with_counts_and_latest_resolves(
    client: httpx.AsyncClient, sample_markdown: str
) -> None:
    one_link = "# Daily Security Info\n\n### その他のメモ\n- [One](https://a.example/1)\n"
    await client.put("/reports/2024-12-06", content=sample_markdown.encode(), headers=MD)
    await client.put("/reports/2024-12-09", content=one_link.encode(), headers=MD)

    listing = (await client.get("/reports")).json()
    latest = (await client.get("/reports/latest")).json()

    assert listing == {
        "reports": [
            {"date": "2024-12-09", "item_count": 1},
            {"date": "2024-12-06", "item_count": 8},
        ]
    }
    assert latest["date"] == "2024-12-09"


async def test_english_labels_on_request(client: httpx.AsyncClient, sample_markdown: str) -> None:
    await client.put("/reports/2024-12-06", content=sample_markdown.encode(), headers=MD)

    markdown = (await client.get("/reports/2024-12-06?format=md&lang=en")).text

    assert "### Daily news summaries" in markdown
    assert "- Summary\n" in markdown
    assert "    - No IOCs" in markdown


async def test_bad_markdown_is_a_422_naming_the_line(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/reports/2024-12-06", content="# Daily Security Info\n\n### Nope\n", headers=MD
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid-request"
    assert "line 3" in response.json()["detail"]


async def test_import_needs_markdown_content_type(client: httpx.AsyncClient) -> None:
    response = await client.put("/reports/2024-12-06", json={"markdown": "x"})

    assert response.status_code == 415
    assert response.json()["type"] == "/problems/unsupported-media-type"


async def test_import_refuses_links_that_are_not_http(client: httpx.AsyncClient) -> None:
    body = "# Daily Security Info\n\n### その他のメモ\n- [x](javascript:alert(1))\n"

    response = await client.put("/reports/2024-12-06", content=body.encode(), headers=MD)

    assert response.status_code == 422


async def test_oversized_import_is_refused_before_reading_it(client: httpx.AsyncClient) -> None:
    body = b"# Daily Security Info\n" + b"x" * (3 * 1024 * 1024)

    response = await client.put("/reports/2024-12-06", content=body, headers=MD)

    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


async def test_missing_day_invalid_day_and_no_report_yet(client: httpx.AsyncClient) -> None:
    missing = await client.get("/reports/2001-01-01")
    invalid = await client.get("/reports/2024-13-45")
    latest = await client.get("/reports/latest")

    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/not-found"
    assert invalid.status_code == 422
    assert invalid.json()["type"] == "/problems/invalid-request"
    assert latest.status_code == 404
