"""The digest's Markdown: the sample round-trips byte for byte; page text cannot break it."""

from __future__ import annotations

from datetime import date

import pytest

from app.errors import MarkdownError
from app.services.markdown import (
    labels_for,
    parse_report,
    render_item,
    render_report,
)
from app.services.reports.document import DocumentIoc, DocumentItem, ItemKind, ReportDocument
from app.services.reports.sections import Section

JA = labels_for("ja")


def test_importing_and_rendering_the_sample_gives_its_bytes_and_one_final_newline(
    sample_markdown: str,
) -> None:
    # As docs/report-format.md says: the sample ends without a newline, a rendering always
    # ends with exactly one; nothing else differs.
    assert not sample_markdown.endswith("\n")
    rendered = render_report(parse_report(sample_markdown), JA)
    assert rendered.encode("utf-8") == sample_markdown.encode("utf-8") + b"\n"
    again = render_report(parse_report(rendered), JA)
    assert again == rendered  # a rendering imported again renders the same bytes


def test_sample_parses_into_its_items(sample_markdown: str) -> None:
    digest = parse_report(sample_markdown)
    news = digest.section_items(Section.DAILY_NEWS)
    assert len(news) == 6
    assert news[0].title == "米国組織、4ヶ月間にわたり中国のハッカーによる侵入被害"
    assert news[0].url is not None
    assert news[0].url.endswith("chinese-hackers/")
    assert len(news[0].summary) == 6
    assert news[0].iocs == []
    assert news[0].other == []
    assert len(news[0].recommendations) == 3
    assert news[3].other == ["攻撃者は、ロシア連邦保安庁（FSB）と関連する組織である。"]
    (incident,) = digest.section_items(Section.JAPAN_INCIDENTS)
    assert incident.kind == ItemKind.LINK
    assert incident.url == "https://www.security-next.com/164989"
    assert digest.section_items(Section.TOOLS) == []


def _article(**overrides: object) -> DocumentItem:
    fields: dict[str, object] = {
        "kind": ItemKind.ARTICLE,
        "section": Section.DAILY_NEWS,
        "title": "A title",
        "url": "https://news.example.com/a",
        "summary": ["First point."],
    }
    fields.update(overrides)
    return DocumentItem(**fields)  # type: ignore[arg-type]


def _round_trip(item: DocumentItem) -> DocumentItem:
    markdown = render_report(ReportDocument(day=date(2024, 12, 6), items=[item]), JA)
    (parsed,) = parse_report(markdown).items
    return parsed


@pytest.mark.parametrize(
    ("title", "read_back"),
    [
        ("# Breaking: not a heading", "# Breaking: not a heading"),
        ("### 日々のニュース要約", "### 日々のニュース要約"),
        ("- not a list", "- not a list"),
        ("1. not an ordered list", "1. not an ordered list"),
        ("[click](https://evil.example/)", "[click](hxxps://evil[.]example/)"),
        ("line one\nline two", "line one line two"),
        (r"C:\Windows\System32 and \[escaped\]", r"C:\Windows\System32 and \[escaped\]"),
    ],
)
def test_hostile_titles_keep_the_structure_and_come_back(title: str, read_back: str) -> None:
    item = _article(title=title)
    markdown = render_report(ReportDocument(day=None, items=[item]), JA)
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert len(headings) == 1 + 7 + 1  # the title, the seven sections, the one entry
    assert _round_trip(item).title == read_back


def test_bullet_with_newline_and_markdown_link_stays_one_inert_line() -> None:
    item = _article(summary=["see [here](https://evil.example/x)\n### injected\n- and ![img](x)"])
    markdown = render_report(ReportDocument(day=None, items=[item]), JA)
    assert "### injected" not in markdown.splitlines()
    assert "](https://evil" not in markdown
    assert "![img]" not in markdown
    assert _round_trip(item).summary == [
        "see [here](hxxps://evil[.]example/x) ### injected - and ![img](x)"
    ]


def test_iocs_are_defanged_everywhere_including_bullets() -> None:
    item = _article(
        summary=["The loader beacons to https://update-check.net/gate.php from 45.137.21.9."],
        iocs=[DocumentIoc("domain", "evil-cdn.com", "evil-cdn[.]com")],
        recommendations=["Block evil-cdn.com at the proxy."],
    )
    block = render_item(item, JA)
    assert "hxxps://update-check[.]net/gate.php" in block
    assert "45.137.21[.]9" in block
    assert "    - evil-cdn[.]com" in block
    assert "Block evil-cdn[.]com at the proxy." in block
    assert "https://update-check.net" not in block
    # The entry's own source link is the one live link.
    assert block.splitlines()[1] == "https://news.example.com/a"


def test_empty_lists_say_so_in_the_report_language() -> None:
    item = _article(summary=[], iocs=[], recommendations=[], other=[], model_recommendations=[])
    ja = render_item(item, JA)
    assert "    - IOC情報なし" in ja
    assert "    - 推奨事項なし" in ja
    assert "    - なし" in ja
    en = render_item(item, labels_for("en"))
    assert "- IOCs\n    - No IOCs" in en
    assert "- Model recommendations\n    - No recommendations" in en


def test_model_recommendations_heading_is_configurable() -> None:
    labels = labels_for("ja", "AIの推奨事項")
    assert "- AIの推奨事項\n" in render_item(_article(), labels)


def test_english_report_parses_back_to_the_same_digest() -> None:
    digest = ReportDocument(
        day=None,
        items=[
            _article(other=["Attributed to APT99."]),
            DocumentItem(ItemKind.LINK, Section.MEMOS, "A memo", "https://x.example/1"),
            DocumentItem(ItemKind.LINK, Section.MEMOS, "Another", "https://x.example/2"),
        ],
    )
    markdown = render_report(digest, labels_for("en"))
    assert "### Other memos\n- [A memo](https://x.example/1)\n- [Another]" in markdown
    parsed = parse_report(markdown)
    assert [(i.kind, i.title, i.url) for i in parsed.items] == [
        (i.kind, i.title, i.url) for i in digest.items
    ]
    assert parsed.items[0].other == ["Attributed to APT99."]


def test_every_section_appears_once_in_order_with_na_when_empty() -> None:
    markdown = render_report(ReportDocument(day=None), JA)
    assert markdown == (
        "# Daily Security Info\n\n### Tools\nN/A\n\n### malware campaign\nN/A\n\n"
        "### security report\nN/A\n\n### cybercrime topics\nN/A\n\n### 日々のニュース要約\nN/A\n\n"
        "### 日本のインシデント事例\nN/A\n\n### その他のメモ\nN/A\n"
    )


@pytest.mark.parametrize(
    ("markdown", "line"),
    [
        ("no title here", 1),
        ("# Daily Security Info\n\n### Not a section\n", 3),
        ("# Daily Security Info\n\nstray text\n", 3),
        ("# Daily Security Info\n\n### Tools\nsomething odd\n", 4),
        ("# D\n### Tools\n#### t\nhttps://u\n\n    - entry before heading\n", 6),
    ],
)
def test_malformed_markdown_names_the_bad_line(markdown: str, line: int) -> None:
    with pytest.raises(MarkdownError, match=f"line {line}:"):
        parse_report(markdown)


def test_link_urls_cannot_close_the_link_early() -> None:
    item = DocumentItem(ItemKind.LINK, Section.MEMOS, "t", "https://x.example/a (b)<c>")
    line = render_item(item, JA)
    assert line == "- [t](https://x.example/a%20%28b%29%3Cc%3E)\n"


def test_defanged_indicators_in_text_keep_their_brackets_unescaped() -> None:
    item = _article(summary=["The loader contacts hxxps://update-check[.]net/gate.php daily."])
    block = render_item(item, JA)
    assert "    - The loader contacts hxxps://update-check[.]net/gate.php daily." in block
    assert _round_trip(item).summary == item.summary
