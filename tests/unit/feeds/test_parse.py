"""Feed parsing: every RSS flavour and Atom, hostile XML, filters."""

from __future__ import annotations

import re
import tracemalloc

import pytest

from app.errors import NotAFeed
from app.services.feeds import parse as feed_parse
from app.services.feeds.parse import EntryFilter, FeedEntry, ParsedFeed, parse_feed
from tests.support.paths import FIXTURES

FEEDS = FIXTURES / "feeds"
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


# Issue 12: one entity of 10,000 characters, referenced 1,000 times in each field, is a
# 10,000,000-character field wherever a parser expands it.
BIG = "A" * 10_000
EXPANDED = "A" * 100  # any expansion at all shows as this run
ENTITY = f'<!ENTITY big "{BIG}">'
DTD = f"<!DOCTYPE rss [\n{ENTITY}\n]>"
REFS = "&big;" * 1_000
HOSTILE_BODY = (
    f"<rss version='2.0'><channel><title>{REFS}</title><item><title>{REFS}</title>"
    f"<link>https://news.example/a</link><description>{REFS}</description></item>"
    "</channel></rss>"
)


def _parsed_within_memory(document: bytes, limit: int = 5_000_000) -> ParsedFeed:
    # Peak memory, not time: what an expansion costs is the memory of the expanded text.
    tracemalloc.start()
    try:
        feed = parse_feed(document, url=BASE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"parsing took {peak:,} bytes at its peak"
    return feed


def _assert_nothing_expanded(feed: ParsedFeed) -> None:
    fields = [feed.title or ""] + [text for e in feed.entries for text in (e.title, e.summary)]
    assert all(EXPANDED not in text for text in fields)


@pytest.mark.parametrize(
    "prolog",
    [
        pytest.param(f"x\n{DTD}", id="text-before-the-doctype"),
        pytest.param(f"<![CDATA[x]]>\n{DTD}", id="cdata-before-the-doctype"),
        pytest.param(f"<!ELEMENT rss ANY>\n{DTD}", id="element-declaration-before-the-doctype"),
        pytest.param(f'<?xml version="1.0"?>x\n{DTD}', id="text-after-the-xml-declaration"),
        pytest.param(f"<!-- c -->x\n{ENTITY}\n<!DOCTYPE rss>", id="entity-after-a-comment"),
        pytest.param(f"<!--\n<!DOCTYPE rss>\n{ENTITY}\n-->", id="declarations-in-a-comment"),
        pytest.param(f"<?note\n<!DOCTYPE rss>\n{ENTITY}\n?>", id="declarations-in-a-pi"),
        pytest.param(
            f"x\n<!doctype rss [\n{ENTITY}\n]>\n<!DOCTYPE rss>", id="entity-in-a-lowercase-doctype"
        ),
    ],
)
def test_an_entity_declared_anywhere_before_the_feed_is_never_expanded(prolog: str) -> None:
    feed = _parsed_within_memory(f"{prolog}\n{HOSTILE_BODY}".encode())

    _assert_nothing_expanded(feed)
    assert feed.entries[0].link == "https://news.example/a"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_declarations_are_cut_after_decoding_so_utf16_and_utf32_hide_none(encoding: str) -> None:
    # The bytes hold no "<!DOCTYPE" an ASCII search could see; the decoded text does.
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>'
    document = f"{declaration}x\n{DTD}\n{HOSTILE_BODY}".encode(encoding)  # with its BOM

    feed = _parsed_within_memory(document)

    _assert_nothing_expanded(feed)
    assert feed.entries[0].link == "https://news.example/a"


def test_the_issue_feed_stays_small_in_memory_and_in_its_fields() -> None:
    # 60 KB that made a 100,000,000-character title and 300 MB of memory.
    feed = _parsed_within_memory((FEEDS / "text-before-doctype.rss").read_bytes())

    _assert_nothing_expanded(feed)
    (entry,) = feed.entries
    assert entry.link == "https://news.example/feed-articles/hospital-ransomware.html"
    assert len(entry.title) <= feed_parse.MAX_TITLE_CHARS


def test_every_field_leaving_the_parser_is_bounded() -> None:
    huge_link = "https://news.example/" + "p" * 5_000
    xml = (
        f"<rss version='2.0'><channel><title>{'T' * 50_000}</title>"
        f"<item><title>{'t' * 50_000}</title><link>https://news.example/a</link>"
        f"<description>{'s ' * 100_000}</description></item>"
        f"<item><title>&lt;b&gt;{'h' * 50_000}&lt;/b&gt;</title>"
        f"<link>https://news.example/b</link><description>x</description></item>"
        f"<item><title>too long a link</title><link>{huge_link}</link></item>"
        "</channel></rss>"
    ).encode()

    feed = parse_feed(xml, url=BASE)

    # A link cut short would be another URL: too long a link is no link.
    assert [e.link for e in feed.entries] == ["https://news.example/a", "https://news.example/b"]
    assert feed.unlinked == 1
    assert len(feed.title or "") <= feed_parse.MAX_TITLE_CHARS
    assert all(len(e.title) <= feed_parse.MAX_TITLE_CHARS for e in feed.entries)
    assert all(len(e.summary) <= feed_parse.MAX_SUMMARY_CHARS for e in feed.entries)


def test_entities_a_real_feed_declares_in_its_doctype_still_read_as_html_ones() -> None:
    xml = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY copy "&#169;">\n]>\n'
        b"<rss version='2.0'><channel><title>t</title><item><title>&copy; 2026 Notes</title>"
        b"<link>https://news.example/a</link></item></channel></rss>"
    )

    feed = parse_feed(xml, url=BASE)

    assert feed.entries[0].title == "\N{COPYRIGHT SIGN} 2026 Notes"


@pytest.mark.parametrize(
    ("document", "kept"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss/>',
            b'<?xml version="1.0"?> <rss/>',
        ),
        (b"<!-- c --><!DOCTYPE rss SYSTEM 'x.dtd'><rss/>", b"<!-- c --> <rss/>"),
        (b'<!DOCTYPE rss [<!ENTITY a "]>">]><rss>]></rss>', b" <rss>]></rss>"),
        (b"<!doctype rss [ <!-- ]> --> ]><rss/>", b" <rss/>"),
        (b"x\n<!DOCTYPE rss [<!ENTITY a 'b'>]><rss/>", b"x\n <rss/>"),
        (b"<![CDATA[x]]><!DoCtYpE rss><rss/>", b"<![CDATA[x]]> <rss/>"),
        (b"<!ELEMENT rss ANY><!ATTLIST rss v CDATA '1'><rss/>", b"  <rss/>"),
        (b"<!-- <!ENTITY a 'b'> --><rss/>", b"<!--   --><rss/>"),
        (b"<rss><!DOCTYPE in-the-body></rss>", b"<rss> </rss>"),
        # Cutting must not join what is around a declaration into a new one.
        (b"<!DOC<!ENTITY a 'b'>TYPE rss [<!ENTITY c 'd'>]><rss/>", b"<!DOC TYPE rss [ ]><rss/>"),
        # Unterminated: the keywords go, the text stays (nothing of the feed is lost).
        (b'<!DOCTYPE rss [<!ENTITY a "open<rss/>', b'  rss [  a "open<rss/>'),
    ],
)
def test_every_declaration_becomes_one_space_wherever_it_stands(
    document: bytes, kept: bytes
) -> None:
    assert feed_parse.strip_declarations(document) == kept


KEYWORD = re.compile(rb"<!(?:doctype|entity|element|attlist|notation)", re.IGNORECASE)


@pytest.mark.parametrize(
    "document",
    [
        b"<!DOC<!DOC<!ENTITY a>TYPE x>TYPE y>",
        b"<!ENT<!DOCTYPE x 'unterminated ITY big 'v'>",
        b"<!ENTITY '" * 1_000,
        b'<!DOCTYPE a [<!ENTITY b "<!DOCTYPE c">]><!ENTITY d "]>">',
        b"<!-- --><!DOCTYPE a [<!-- -->]><!DOCTYPE b [<?pi ]>?>]><!ENTITY c '>'>",
    ],
)
def test_no_declaration_keyword_survives_the_cut(document: bytes) -> None:
    assert KEYWORD.search(feed_parse.strip_declarations(document)) is None


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
