"""extract_article and text_to_article: main text free of boilerplate, and page metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.services.extract import ArticleText, extract_article, text_to_article
from app.services.extract._meta import parse_date, strip_site_suffix
from tests.support.paths import FIXTURES

SITE = FIXTURES / "site"
URL = "https://harbor-threat-review.example/2024/12/ember-lynx-fake-updates/"
LEAD = "A financially motivated intrusion set that researchers call Ember Lynx"
FILLER = "This sentence is ordinary article prose, long enough to score as a paragraph. "


@pytest.fixture(scope="module")
def english() -> ArticleText:
    return extract_article((SITE / "english-news.html").read_bytes(), URL)


def _article(inner: str, head: str = "") -> ArticleText:
    paragraphs = "".join(f"<p>{FILLER * 2}</p>" for _ in range(4))
    html = f"<html><head>{head}</head><body><article>{paragraphs}{inner}</article>"
    return extract_article(html)


def test_keeps_article_body_paragraphs(english: ArticleText) -> None:
    assert english.text.startswith(LEAD)
    assert "Administrators should apply the patch for CVE-2024-38077" in english.text
    assert "attributes the campaign to Ember Lynx" in english.text
    assert "hxxps://update-check[.]net/gate.php" in english.text
    assert english.text.endswith("will update this article when it responds.")


def test_separates_paragraphs_with_blank_lines(english: ArticleText) -> None:
    paragraphs = english.text.split("\n\n")
    assert paragraphs[0].startswith(LEAD)
    assert paragraphs[1].startswith("The attackers lure employees")


def test_keeps_headings_inside_the_article(english: ArticleText) -> None:
    assert "\n\nIndicators of compromise\n\n" in english.text


def test_keeps_table_rows_one_per_line(english: ArticleText) -> None:
    assert "Type | Indicator | Role\nURL | hxxps://update-check[.]net/gate.php | Loader gate\n" in (
        english.text
    )
    assert "IPv4 | 45.137.21[.]9 | PalletRAT C2" in english.text


def test_keeps_line_breaks_of_preformatted_blocks(english: ArticleText) -> None:
    assert (
        "SHA-256 (PalletRAT loader)\n"
        "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea\n"
    ) in english.text


@pytest.mark.parametrize(
    "boilerplate",
    [
        "We use cookies",  # cookie banner
        "Podcast",  # nav menu in the site header
        "Home",  # breadcrumbs
        "Share on X",  # share buttons
        "Subscribe to our newsletter",  # newsletter box
        "198.51.100.23",  # comments section
        "commenter-spam.example.net",
        "Leave a reply",
        "Pallet ransomware hits port operator",  # related links in the sidebar
        "SuperSIEM",  # advertisement
        "tips@harbor-threat-review.example",  # site footer
        "Tracking pixel",  # display:none
        "dataLayer",  # script
        "Tags:",  # entry footer
    ],
)
def test_removes_boilerplate_around_the_article(english: ArticleText, boilerplate: str) -> None:
    assert boilerplate not in english.text


def test_removes_html_comments(english: ArticleText) -> None:
    assert "editor note" not in english.text


def test_reads_english_metadata(english: ArticleText) -> None:
    assert english.title == "Ember Lynx Targets Logistics Firms With Fake Update Lures"
    assert english.published == datetime(2024, 12, 5, 9, 30, tzinfo=timezone(timedelta(hours=9)))
    assert english.published.tzinfo is not None
    assert english.lang == "en"
    assert english.author == "Dana Whitfield"
    assert english.site_name == "Harbor Threat Review"
    assert english.canonical_url == URL
    assert english.description is not None
    assert english.description.startswith("A financially motivated group")


def test_extracts_shift_jis_page_declared_only_in_meta() -> None:
    article = extract_article((SITE / "jp-sjis.html").read_bytes(), content_type="text/html")
    assert article.title == "物流大手にランサムウェア攻撃、取引先情報が流出した可能性"
    assert article.lang == "ja"
    assert article.published == datetime(2024, 12, 5)
    assert "「malicious-site[.]jp」" in article.text
    assert "203.0.113[.]45" in article.text
    assert "確認することを推奨しています。" in article.text
    assert "ランサムウェアグループによるものとみています。" in article.text
    for boilerplate in ("お問い合わせ", "関連記事", "製造業を狙う", "Copyright"):
        assert boilerplate not in article.text


def test_inline_elements_add_no_spaces_in_japanese_text() -> None:
    article = extract_article((SITE / "jp-sjis.html").read_bytes())
    assert "同社のサーバーがランサムウェアによる攻撃を受け" in article.text


def test_source_line_breaks_inside_japanese_text_are_not_spaces() -> None:
    article = _article("<p>攻撃者は認証情報を\n    窃取しました。</p>")
    assert "攻撃者は認証情報を窃取しました。" in article.text


def test_extracts_euc_jp_page() -> None:
    article = extract_article((SITE / "jp-eucjp.html").read_bytes())
    assert article.title == "自治体のウェブサイトが改ざん、閲覧者を偽サイトへ誘導"
    assert "確認を呼びかけています。" in article.text
    assert "広報課" not in article.text
    assert article.lang == "ja"


def test_extracts_utf8_page_that_declares_shift_jis() -> None:
    article = extract_article((SITE / "jp-utf8-declared-sjis.html").read_bytes())
    assert "二要素認証の設定を呼びかけています。" in article.text


def test_removes_hidden_elements() -> None:
    article = _article(
        '<p hidden>HIDDEN-ATTR</p><div aria-hidden="true">ARIA-HIDDEN</div>'
        '<p style="color:red; display: none">DISPLAY-NONE</p>'
        '<span style="visibility:hidden">VISIBILITY</span><p style="border: none">SHOWN</p>'
    )
    for hidden in ("HIDDEN-ATTR", "ARIA-HIDDEN", "DISPLAY-NONE", "VISIBILITY"):
        assert hidden not in article.text
    assert "SHOWN" in article.text


def test_class_words_match_whole_parts_only() -> None:
    article = _article(
        '<div class="entry-content"><p>KEEP-ENTRY</p></div><p class="headline">KEEP-HEADLINE</p>'
        '<p class="shadow-box">KEEP-SHADOW</p><div class="post-comments">DROP-COMMENTS</div>'
        '<div class="shareButtons">DROP-SHARE</div><div class="ad">DROP-AD</div>'
    )
    for kept in ("KEEP-ENTRY", "KEEP-HEADLINE", "KEEP-SHADOW"):
        assert kept in article.text
    for dropped in ("DROP-COMMENTS", "DROP-SHARE", "DROP-AD"):
        assert dropped not in article.text


def test_layout_wrappers_named_after_sidebars_are_kept() -> None:
    html = f'<body class="has-sidebar"><div class="content-sidebar-wrap"><p>{FILLER}</p></div>'
    assert extract_article(html).text == FILLER.strip()


def test_picks_best_scored_block_without_semantic_markup() -> None:
    links = "".join(f'<li><a href="/{i}">Menu entry number {i}</a></li>' for i in range(30))
    body = "".join(f"<p>{FILLER}Paragraph {i}, with commas, here.</p>" for i in range(6))
    html = f'<html><body><div id="x"><ul>{links}</ul></div><div id="y">{body}</div></body></html>'
    article = extract_article(html)
    assert "Paragraph 0" in article.text
    assert "Paragraph 5" in article.text
    assert "Menu entry" not in article.text


def test_lists_keep_one_item_per_line() -> None:
    article = _article("<ul><li>first <b>item</b></li><li>second item</li></ul>")
    assert "\n\nfirst item\nsecond item" in article.text


def test_strips_site_suffix_from_the_title_tag() -> None:
    head = (
        "<title>Patch Tuesday fixes 70 flaws – Harbor Review</title>"
        '<meta property="og:site_name" content="Harbor Review">'
    )
    assert _article("", head=head).title == "Patch Tuesday fixes 70 flaws"


@pytest.mark.parametrize(
    ("title", "site", "host", "expected"),
    [
        ("Big breach | Example News", "Example News", None, "Big breach"),
        ("Big breach - Example News", "Example News", None, "Big breach"),
        ("Big breach — BleepingComputer", None, "www.bleepingcomputer.com", "Big breach"),
        ("情報漏えいを公表｜セキュリティ速報", "セキュリティ速報", None, "情報漏えいを公表"),
        ("Big breach : Example News", "Example News", None, "Big breach"),
        ("Example News | Big breach", "Example News", None, "Big breach"),
        (
            "CVE-2024-1234: a flaw - in detail",
            "Example News",
            None,
            "CVE-2024-1234: a flaw - in detail",
        ),
    ],
)
def test_strips_site_suffix_only_when_it_names_the_site(
    title: str, site: str | None, host: str | None, expected: str
) -> None:
    assert strip_site_suffix(title, site, host) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-12-05T09:30:00Z", datetime(2024, 12, 5, 9, 30, tzinfo=UTC)),
        (
            "2024-12-05T09:30:00+09:00",
            datetime(2024, 12, 5, 9, 30, tzinfo=timezone(timedelta(hours=9))),
        ),
        ("2024/12/05", datetime(2024, 12, 5)),
        ("2024年12月5日", datetime(2024, 12, 5)),
        (
            "2024年12月5日 10:30 JST",
            datetime(2024, 12, 5, 10, 30, tzinfo=timezone(timedelta(hours=9))),
        ),
        ("Thu, 5 Dec 2024", None),
        ("not a date", None),
        ("2024-13-45", None),
    ],
)
def test_parses_published_dates(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


def test_reads_published_from_json_ld() -> None:
    head = (
        '<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", '
        '"datePublished": "2024-12-05T01:02:03Z", "author": [{"name": "A. Writer"}]}]}</script>'
    )
    article = _article("", head=head)
    assert article.published == datetime(2024, 12, 5, 1, 2, 3, tzinfo=UTC)
    assert article.author == "A. Writer"


def test_falls_back_to_time_element_for_published() -> None:
    article = _article('<p>Posted <time datetime="2024-11-30">Nov 30</time></p>')
    assert article.published == datetime(2024, 11, 30)


def test_detects_language_when_html_lang_is_missing_or_wrong() -> None:
    assert _article("").lang == "en"
    ja = "<p>" + "攻撃者は認証情報を窃取しました。" * 10 + "</p>"
    html = f'<html lang="en"><body><article>{ja}</article></body></html>'
    assert extract_article(html).lang == "ja"
    assert (
        extract_article('<html lang="de-DE"><body><p>Sicherheitslücke</p></body></html>').lang
        == "de"
    )


def test_deeply_nested_page_still_returns_text() -> None:
    html = "<html><body><p>Lead text.</p>" + "<div>" * 100_000 + "deep text" + "</div>" * 100_000
    article = extract_article(html + "</body></html>")
    assert "deep text" in article.text


def test_empty_and_broken_input_gives_empty_text() -> None:
    assert extract_article(b"").text == ""
    assert extract_article("<html><body><script>x()</script></body></html>").text == ""
    assert extract_article(b"\xff\xfe\x00<\x00").title is None


def test_text_to_article_takes_short_first_line_as_title() -> None:
    article = text_to_article(
        "Big breach at Example\n\nFirst   paragraph.\nSame  paragraph.\n\n\n\nSecond."
    )
    assert article.title == "Big breach at Example"
    assert article.text == "First paragraph.\nSame paragraph.\n\nSecond."
    assert article.lang is None or article.lang == "en"


def test_text_to_article_keeps_given_title_and_first_sentence() -> None:
    article = text_to_article(
        "The attackers used a known flaw.\r\n\r\nThen they left.", title=" Given "
    )
    assert article.title == "Given"
    assert article.text.startswith("The attackers used a known flaw.")
    jp = text_to_article("不正アクセスについて\n当社サーバーに不正アクセスがありました。" * 3)
    assert jp.title == "不正アクセスについて"
    assert jp.lang == "ja"


def test_headline_is_the_title_not_part_of_the_text() -> None:
    html = "<html><head><title>Ember Lynx returns | Harbor</title></head><body><article>"
    html += f"<h1>Ember Lynx returns</h1><h2>Background</h2><p>{FILLER * 8}</p></article>"
    article = extract_article(html)
    assert article.title == "Ember Lynx returns"
    assert article.text.startswith("Background\n\n")


def test_figures_with_captions_are_dropped_but_figures_holding_tables_are_kept() -> None:
    article = _article(
        "<figure><img src=x.png><figcaption>PHOTO-CAPTION credit AP</figcaption></figure>"
        "<figure><table><tr><td>IOC-CELL</td><td>1.2.3.4</td></tr></table></figure>"
    )
    assert "PHOTO-CAPTION" not in article.text
    assert "IOC-CELL | 1.2.3.4" in article.text


def test_small_bylines_and_tag_lists_are_dropped() -> None:
    article = _article(
        '<div class="post-meta">By A. Writer, 5 Dec 2024</div>'
        '<div class="entry-tags">Tags: malware, phishing</div>'
    )
    assert "A. Writer" not in article.text
    assert "Tags:" not in article.text


def test_weak_class_words_never_drop_most_of_the_page() -> None:
    body = "".join(f"<p>{FILLER * 2}</p>" for _ in range(6))
    html = f'<html><body><div class="author-story">{body}</div><p>short</p></body></html>'
    assert FILLER.strip() in extract_article(html).text


def test_a_token_naming_the_content_vouches_for_the_block() -> None:
    body = "".join(f"<p>{FILLER * 2} Part {i}.</p>" for i in range(6))
    side = "".join(f"<p>{FILLER}</p>" for _ in range(12))
    html = (
        f'<html><body><div class="article-body pagination-first">{body}</div>'
        f'<div class="l-sidebar-fixed l-article-body-segment">{side}</div></body></html>'
    )
    text = extract_article(html).text
    assert "Part 0." in text
    assert "Part 5." in text


def test_article_named_like_a_newsletter_is_still_the_article() -> None:
    body = "".join(f"<p>{FILLER * 2} Part {i}.</p>" for i in range(6))
    comments = "".join(f"<p>{FILLER * 2} Comment {i}.</p>" for i in range(8))
    html = (
        f'<html><body><article class="newsletter-post post">{body}</article>'
        f'<div class="comments-section">{comments}</div></body></html>'
    )
    text = extract_article(html).text
    assert "Part 0." in text
    assert "Comment 0." not in text


def test_link_lists_inside_the_article_are_dropped() -> None:
    related = "".join(f'<li><a href="/{i}">Another story number {i}</a></li>' for i in range(6))
    article = _article(f"<h3>More on this story</h3><ul>{related}</ul><p>Closing words.</p>")
    assert "Another story number" not in article.text
    assert "Closing words." in article.text


def test_listing_pages_keep_their_links() -> None:
    items = "".join(
        f'<li><a href="/{i}">Advisory {i}: update the VPN appliance firmware now</a></li>'
        for i in range(20)
    )
    html = f"<html><body><main><h2>Advisories</h2><ul>{items}</ul></main></body></html>"
    text = extract_article(html).text
    assert "Advisory 0:" in text
    assert "Advisory 19:" in text


def test_forum_thread_keeps_every_post_not_only_the_best_one() -> None:
    posts = "".join(
        f'<div class="post"><div class="user">user{i}</div>'
        f'<div class="postText">{FILLER * (2 + i % 3)}Reply {i}.</div></div>'
        for i in range(8)
    )
    nav = "".join(f'<li><a href="/f/{i}">Forum {i}</a></li>' for i in range(15))
    html = f'<html><body><ul class="forums">{nav}</ul><div class="thread">{posts}</div></body>'
    text = extract_article(html).text
    for i in range(8):
        assert f"Reply {i}." in text
    assert "Forum 3" not in text


def test_utf8_bytes_are_parsed_without_decoding_and_keep_their_characters() -> None:
    html = "<html><body><article><p>Zoë’s café — 攻撃は続いている。</p></article></body></html>"
    assert "Zoë’s café — 攻撃は続いている。" in extract_article(html.encode()).text
