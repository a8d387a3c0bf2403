"""Feed parsing: every RSS flavour and Atom, hostile XML, filters."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from app.services.feed_parse import EntryFilter, FeedEntry, NotAFeed, parse_feed, strip_doctype

FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
BASE = "https://news.example/feeds/x.xml"


def test_rss20_entries_with_links_made_absolute_and_html_made_text() -> None:
    feed = parse_feed((FEEDS / "news.rss").read_bytes(), url=BASE)

    assert feed.version == "rss20"
    assert feed.title == "Feed Fixture News"
    assert [e.link for e in feed.entries][1:] == [
        "https://news.example/feed-articles/hospital-ransomware.html",
        "https://news.example/feed-articles/phishing-kit.html",
    ]
    assert feed.entries[0].summary.startswith("A Windows privilege escalation flaw")
    assert "<p>" not in feed.entries[0].summary
    assert not feed.malformed


def test_atom_links_resolve_against_xml_base() -> None:
    feed = parse_feed((FEEDS / "research.atom").read_bytes(), url=BASE)

    assert feed.version == "atom10"
    assert [e.link for e in feed.entries] == [
        "https://news.example/feed-articles/router-botnet.html",
        "https://news.example/feed-articles/windows-zero-day.html#comments",
    ]
    assert feed.entries[0].summary == "End-of-life routers proxy attack traffic."


def test_rss10_rdf_in_japanese_and_rss091() -> None:
    rdf = parse_feed((FEEDS / "jp-incidents.rdf").read_bytes(), url=BASE)
    old = parse_feed((FEEDS / "rss091.xml").read_bytes(), url=BASE)

    assert rdf.version == "rss10"
    assert rdf.entries[0].title.startswith("精密機器メーカーに不正アクセス")
    assert old.version.startswith("rss09")
    assert old.entries[0].link == "https://notes.example/2026/vpn-patches"


def test_malformed_xml_is_read_leniently_and_flagged() -> None:
    feed = parse_feed((FEEDS / "malformed.rss").read_bytes(), url=BASE)

    assert feed.malformed
    assert feed.entries[0].link == "https://news.example/feed-articles/hospital-ransomware.html"


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(NotAFeed):
        parse_feed((FEEDS / "not-a-feed.html").read_bytes(), url=BASE, content_type="text/html")


def test_billion_laughs_is_not_expanded() -> None:
    tracemalloc.start()
    feed = parse_feed((FEEDS / "billion-laughs.rss").read_bytes(), url=BASE)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Expanded, the title alone would be 10^9 "lol"s (gigabytes); read, it is a few bytes.
    assert "lol" * 100 not in feed.entries[0].title
    assert peak < 20_000_000


def test_quadratic_blowup_entity_is_not_expanded() -> None:
    big = "A" * 50_000
    refs = "&big;" * 2_000
    xml = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "{big}">\n]>\n'
        f"<rss version='2.0'><channel><title>t</title><item><title>x</title>"
        f"<link>https://news.example/a</link><description>{refs}</description></item>"
        f"</channel></rss>"
    ).encode()

    feed = parse_feed(xml, url=BASE)

    assert len(feed.entries[0].summary) < 50_000


@pytest.mark.parametrize(
    ("document", "kept"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss/>',
            b'<?xml version="1.0"?><rss/>',
        ),
        (b"<!-- c --><!DOCTYPE rss SYSTEM 'x.dtd'><rss/>", b"<!-- c --><rss/>"),
        (b'<!DOCTYPE rss [<!ENTITY a "]>">]><rss>]></rss>', b"<rss>]></rss>"),
        (b"<!doctype rss [ <!-- ]> --> ]><rss/>", b"<rss/>"),
        (b'<!DOCTYPE rss [<!ENTITY a "unterminated', b""),
        (b"<rss><!DOCTYPE not-in-prolog></rss>", b"<rss><!DOCTYPE not-in-prolog></rss>"),
    ],
)
def test_strip_doctype(document: bytes, kept: bytes) -> None:
    assert strip_doctype(document) == kept


def test_shift_jis_feed_decodes() -> None:
    xml = (
        '<?xml version="1.0" encoding="Shift_JIS"?><rss version="2.0"><channel><title>速報</title>'
        "<item><title>不正アクセスの報告</title><link>https://news.example/a</link></item>"
        "</channel></rss>"
    ).encode("shift_jis")

    feed = parse_feed(xml, url=BASE)

    assert feed.title == "速報"
    assert feed.entries[0].title == "不正アクセスの報告"


ENTRY = FeedEntry(
    link="https://news.example/security/2026/ransom.html?id=1",
    title="Ransomware hits a ＨＯＳＰＩＴＡＬ",
    summary="Ambulances diverted.",
)


@pytest.mark.parametrize(
    ("keywords", "patterns", "accepted"),
    [
        ((), (), True),
        (("hospital",), (), True),
        (("ambulances",), (), True),
        (("phishing",), (), False),
        ((), ("/security/*",), True),
        ((), ("/news/*",), False),
        ((), ("https://*.example/security/*",), True),
        ((), ("https://other.example/*",), False),
        (("hospital",), ("/news/*",), False),
        (("  ", "hospital"), ("", "/security/*"), True),
    ],
)
def test_entry_filter(keywords: tuple[str, ...], patterns: tuple[str, ...], accepted: bool) -> None:
    assert EntryFilter.of(keywords, patterns).accepts(ENTRY) is accepted
