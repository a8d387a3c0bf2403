"""GET /search: English and Japanese entries by their text, filters, pages, ranking, and
queries that try to break it (on SQLite, and PostgreSQL when it is set)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.services.search import MARK_CLOSE, MARK_OPEN

MD = {"Content-Type": "text/markdown"}
PROBLEM = "application/problem+json"

IVANTI_TEXT = (
    "Attackers exploited two zero-day flaws in Ivanti Connect Secure VPN gateways, tracked as "
    "CVE-2024-21887 and CVE-2023-46805, to break into government networks. The intruders "
    "chained an authentication bypass with a command injection and planted web shells on "
    "the appliances. Ivanti released a mitigation file and urged customers to run its "
    "integrity checker. Investigators said the campaign began in early December and that "
    "the attackers wiped logs to hide their tracks. Administrators should apply the fixes "
    "and reset the passwords of accounts that passed through the gateways."
)
RANSOMWARE_TEXT = (
    "大阪府の病院がランサムウェアによるサイバー攻撃を受け、電子カルテシステムが停止した。"
    "攻撃者はVPN機器の脆弱性を悪用してネットワークに侵入し、サーバーのデータを暗号化した。"
    "病院は外来診療を一時停止し、警察と専門家に相談して復旧作業を進めている。"
    "犯行グループは身代金を要求しており、窃取した患者情報を公開すると脅迫している。"
    "同病院はバックアップからの復旧を試みているが、完全な復旧には数週間かかる見通しだという。"
)
INTRUSION_TEXT = (
    "通販サイトを運営する企業は、外部からの不正アクセスにより顧客のクレジットカード情報が"
    "流出した可能性があると発表した。攻撃者はウェブアプリケーションの脆弱性を突いて決済画面を"
    "改ざんし、入力されたカード情報を外部のサーバーに送信していた。同社は個人情報保護委員会に"
    "報告するとともに、影響を受けた約二万人の顧客に個別に連絡している。"
    "不正アクセスの発覚後、同社はサイトでのカード決済を停止し、第三者機関による調査を進めている。"
)


def _entry(title: str, lines: list[str], url: str) -> str:
    summary = "\n".join(f"    - {line}" for line in lines)
    return (
        f"#### {title}\n{url}\n\n- 要約\n{summary}\n- IOCの列挙\n    - IOC情報なし\n"
        "- 推奨事項\n    - なし\n- その他\n    - なし\n- ChatGPTの推奨事項\n    - なし\n"
    )


def digest(*entries: str, section: str = "日々のニュース要約") -> str:
    """A day in the analysts' format with these entries in one section."""
    return f"# Daily Security Info\n\n### {section}\n\n" + "\n".join(entries)


async def _import(client: httpx.AsyncClient, day: str, markdown: str) -> None:
    response = await client.put(f"/reports/{day}", content=markdown.encode(), headers=MD)
    assert response.status_code == 200, response.text


async def _summarize(client: httpx.AsyncClient, day: str, text: str, **extra: Any) -> int:
    response = await client.post("/summarize", json={"text": text, "date": day, **extra})
    assert response.status_code == 200, response.text
    item_id: int = response.json()["report"]["item_id"]
    return item_id


async def _search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(body: dict[str, Any]) -> list[int]:
    return [hit["item_id"] for hit in body["results"]]


@pytest.fixture
async def articles(client: httpx.AsyncClient) -> dict[str, int]:
    """Three articles through POST /summarize (English, two Japanese), one a day."""
    return {
        "ivanti": await _summarize(client, "2024-12-01", IVANTI_TEXT, title="Ivanti gateways"),
        "ransomware": await _summarize(client, "2024-12-02", RANSOMWARE_TEXT),
        "intrusion": await _summarize(client, "2024-12-03", INTRUSION_TEXT),
    }


# ---------------------------------------------------------------------------- finding


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Ivanti", "ivanti"),
        ("ランサムウェア", "ransomware"),
        ("不正アクセス", "intrusion"),
        ("cve-2024-21887", "ivanti"),  # any case; an indicator the text names
        ("電子カルテ", "ransomware"),  # only in the article's text, not in its summary
    ],
)
async def test_english_and_japanese_articles_are_found_by_their_words(
    client: httpx.AsyncClient, articles: dict[str, int], query: str, found: str
) -> None:
    body = await _search(client, q=query)

    assert _ids(body) == [articles[found]]
    assert body["ranking"] == "relevance"
    hit = body["results"][0]
    assert MARK_OPEN in hit["snippet"]
    assert hit["score"] > 0
    assert hit["date"] == {"ivanti": "2024-12-01", "ransomware": "2024-12-02"}.get(
        found, "2024-12-03"
    )


async def test_a_result_has_its_place_title_and_a_plain_snippet_with_the_terms_marked(
    client: httpx.AsyncClient, articles: dict[str, int]
) -> None:
    (hit,) = (await _search(client, q="Ivanti integrity"))["results"]

    assert set(hit) == {"date", "item_id", "title", "url", "section", "snippet", "score"}
    assert hit["section"] in {"daily_news", "security_report", "malware_campaign"}
    assert "«Ivanti»" in hit["snippet"] or "«integrity»" in hit["snippet"]
    assert "<" not in hit["snippet"]
    item = await client.get(f"/reports/{hit['date']}/items/{hit['item_id']}")
    assert item.json()["title"] == hit["title"]


async def test_an_imported_entry_without_an_article_is_found_by_its_summary(
    client: httpx.AsyncClient,
) -> None:
    await _import(
        client,
        "2024-12-04",
        digest(
            _entry(
                "Ivanti製品の脆弱性を悪用した攻撃",
                ["攻撃者はIvanti Connect Secureに不正アクセスし、認証情報を窃取した。"],
                "https://news.example.jp/ivanti",
            )
        ),
    )

    for query in ("Ivanti", "不正アクセス", "認証情報を窃取"):
        body = await _search(client, q=query)
        assert [hit["url"] for hit in body["results"]] == ["https://news.example.jp/ivanti"]


async def test_a_phrase_must_appear_as_written_and_words_anywhere(
    client: httpx.AsyncClient, articles: dict[str, int]
) -> None:
    assert _ids(await _search(client, q='"Connect Secure"')) == [articles["ivanti"]]
    assert _ids(await _search(client, q='"Secure Connect"')) == []
    assert _ids(await _search(client, q="Secure Connect")) == [articles["ivanti"]]


async def test_a_word_matches_inside_longer_words_and_a_trailing_star_changes_nothing(
    client: httpx.AsyncClient, articles: dict[str, int]
) -> None:
    for query in ("ランサム", "exploit", "Ivant*", "vant", "gateway"):
        body = await _search(client, q=query)
        assert _ids(body), query
    assert _ids(await _search(client, q="ランサム")) == [articles["ransomware"]]
    assert _ids(await _search(client, q="Ivant*")) == [articles["ivanti"]]


async def test_every_term_must_be_found(
    client: httpx.AsyncClient, articles: dict[str, int]
) -> None:
    assert _ids(await _search(client, q="病院 ランサムウェア")) == [articles["ransomware"]]
    assert _ids(await _search(client, q="Ivanti ランサムウェア")) == []


async def test_two_character_japanese_words_list_the_newest_entries_that_have_them(
    client: httpx.AsyncClient, articles: dict[str, int]
) -> None:
    body = await _search(client, q="侵入")
    mixed = await _search(client, q="ランサムウェア 侵入")

    # 侵入 is in the ransomware story only (the other says 不正アクセス).
    assert body["ranking"] == "newest"
    assert _ids(body) == [articles["ransomware"]]
    assert body["results"][0]["score"] is None
    assert "«侵入»" in body["results"][0]["snippet"]
    assert mixed["ranking"] == "relevance"
    assert _ids(mixed) == [articles["ransomware"]]
    assert _ids(await _search(client, q="流出")) == [articles["intrusion"]]
    assert _ids(await _search(client, q="流出 病院")) == []


# ---------------------------------------------------------------------------- filters


async def test_filters_by_days_section_and_indicator_type(
    client: httpx.AsyncClient, articles: dict[str, int]
) -> None:
    everything = "ランサムウェア"
    assert _ids(await _search(client, q=everything, **{"from": "2024-12-03"})) == []
    assert _ids(await _search(client, q=everything, to="2024-12-02")) == [articles["ransomware"]]
    section = (await _search(client, q=everything))["results"][0]["section"]
    assert _ids(await _search(client, q=everything, section=section)) == [articles["ransomware"]]
    other = "tools" if section != "tools" else "memos"
    assert _ids(await _search(client, q=everything, section=other)) == []
    assert _ids(await _search(client, q="Ivanti", type="cve")) == [articles["ivanti"]]
    assert _ids(await _search(client, q="Ivanti", type="ipv4")) == []


async def test_a_from_after_to_and_unknown_filters_are_422s(client: httpx.AsyncClient) -> None:
    for params in (
        {"q": "Ivanti", "from": "2024-12-05", "to": "2024-12-01"},
        {"q": "Ivanti", "from": "2024-13-01"},
        {"q": "Ivanti", "section": "gossip"},
        {"q": "Ivanti", "type": "dogecoin"},
        {"q": "Ivanti", "limit": 0},
        {"q": "Ivanti", "limit": 101},
    ):
        response = await client.get("/search", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith(PROBLEM)


# ---------------------------------------------------------------------------- pages, ranks


async def test_pages_follow_each_other_without_gap_or_repeat(client: httpx.AsyncClient) -> None:
    entries = [
        _entry(
            f"ランサムウェア事例 {n}",
            [f"事例{n}の病院がランサムウェアに感染した。"],
            f"https://x.jp/{n}",
        )
        for n in range(25)
    ]
    await _import(client, "2024-12-05", digest(*entries[:12]))
    await _import(client, "2024-12-06", digest(*entries[12:]))

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"q": "ランサムウェア", "limit": 10}
        if cursor:
            params["cursor"] = cursor
        body = await _search(client, **params)
        seen += _ids(body)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert len(seen) == len(set(seen)) == 25
    first = await _search(client, q="ランサムウェア", limit=10)
    elsewhere = await client.get(
        "/search", params={"q": "ランサムウェア 病院", "cursor": first["next_cursor"]}
    )
    assert elsewhere.status_code == 422
    assert "another search" in elsewhere.json()["detail"]


async def test_a_title_match_comes_first_and_equal_scores_go_newest_first(
    client: httpx.AsyncClient,
) -> None:
    # The same entry (the word in its summary) on three days: equal scores.
    same = _entry("週次まとめ", ["今週はLockBitの活動が目立った。"], "https://x.jp/weekly")
    for day in ("2024-11-01", "2024-11-02", "2024-11-03"):
        await _import(client, day, digest(same))
    # An older entry with the word in its title.
    await _import(
        client,
        "2024-10-01",
        digest(_entry("LockBitの新たな亜種", ["新しい亜種が確認された。"], "https://x.jp/lb")),
    )

    body = await _search(client, q="LockBit")

    dates = [hit["date"] for hit in body["results"]]
    assert dates == ["2024-10-01", "2024-11-03", "2024-11-02", "2024-11-01"]
    scores = [hit["score"] for hit in body["results"]]
    assert scores[0] > scores[1]
    assert scores[1] == scores[2] == scores[3]


# ---------------------------------------------------------------------------- writes


async def test_an_edit_and_a_removal_are_searchable_at_once(
    client: httpx.AsyncClient, articles: dict[str, int]
) -> None:
    item = articles["ivanti"]
    patched = await client.patch(
        f"/reports/2024-12-01/items/{item}",
        json={"title": "Pulse Secure 侵害の続報", "summary": ["Webシェルが見つかった。"]},
    )
    assert patched.status_code == 200, patched.text

    assert _ids(await _search(client, q="Webシェル")) == [item]
    assert _ids(await _search(client, q="Pulse Secure")) == [item]
    assert _ids(await _search(client, q="侵害")) == [item]

    removed = await client.delete(f"/reports/2024-12-01/items/{item}")
    assert removed.status_code == 204

    assert _ids(await _search(client, q="Webシェル")) == []
    assert _ids(await _search(client, q="Ivanti")) == []


async def test_a_day_imported_again_is_searched_as_it_is_now(client: httpx.AsyncClient) -> None:
    await _import(
        client, "2024-12-06", digest(_entry("旧い見出し", ["旧い要約。"], "https://x.jp/a"))
    )
    await _import(
        client, "2024-12-06", digest(_entry("新しい見出し", ["新しい要約。"], "https://x.jp/b"))
    )

    assert _ids(await _search(client, q="旧い見出し")) == []
    assert [h["url"] for h in (await _search(client, q="新しい見出し"))["results"]] == [
        "https://x.jp/b"
    ]


# ---------------------------------------------------------------------------- hostile


HOSTILE = [
    'ransomware OR "',
    "NEAR(Ivanti fortinet, 5)",
    "Ivanti AND",
    "* ^ : ( )",
    '"""',
    "-",
    "%",
    "_",
    "%%%_%",
    "\\",
    "\\%Ivanti",
    "'; DROP TABLE report_items; --",
    "Ivanti\x00ransomware",
    "\x00\x00",
    "侵",
    "a",
    "🦠🦠🦠",
    "ランサムウェア" * 1000,  # 7,000 characters: 63 KB once percent-encoded
    "x " * 9,
    "<script>alert(1)</script>",
    "Ivanti' OR '1'='1",
    "content:ivanti",
    "{title}: Ivanti",
    '"Ivanti" NOT "ransomware"',
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_queries_get_an_answer_or_a_422_never_a_500(
    client: httpx.AsyncClient, articles: dict[str, int], query: str
) -> None:
    response = await client.get("/search", params={"q": query})

    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.headers["content-type"].startswith(PROBLEM)
        assert query[:50] not in response.text or len(query) < 3
    else:
        for hit in response.json()["results"]:
            assert hit["snippet"].count(MARK_OPEN) == hit["snippet"].count(MARK_CLOSE)


async def test_a_query_of_ten_thousand_characters_is_a_422_that_does_not_echo_it(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/search", params={"q": "A" * 10_000})

    assert response.status_code == 422
    assert "AAAAAAAAAA" not in response.text


@pytest.mark.parametrize("raw", ["q=%FF%FE", "q=%C0%AF", "q=%ED%A0%80", "q=", "", "q=x&q=yy"])
async def test_malformed_query_strings_are_answered(client: httpx.AsyncClient, raw: str) -> None:
    response = await client.get(f"/search?{raw}")

    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize(
    "cursor", ["", "!!!", "eyJ9", "W10", "x" * 300, "WyJhIiwgMS4wLCAiMjAyNC0wMS0wMSIsIDFd"]
)
async def test_forged_cursors_are_422s(
    client: httpx.AsyncClient, articles: dict[str, int], cursor: str
) -> None:
    response = await client.get("/search", params={"q": "Ivanti", "cursor": cursor})

    assert response.status_code in (200, 422), response.text
    if cursor:
        assert response.status_code == 422
