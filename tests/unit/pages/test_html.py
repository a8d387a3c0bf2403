"""The day's page: what a browser's parser makes of it (Python's html.parser), hostile text
included; the Markdown's order, headings and indicators; the policy's hashes."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from app.services.markdown import Labels, labels_for, parse_report, render_report
from app.services.pages import CONTENT_SECURITY_POLICY, render_day_html, web_url
from app.services.pages.html import SCRIPT, STYLE
from app.services.reports.document import (
    DocumentIoc,
    DocumentItem,
    DocumentSource,
    ItemKind,
    ReportDocument,
)
from app.services.reports.sections import Section

JA = labels_for("ja")
EN = labels_for("en")
DAY = date(2024, 12, 6)
# Elements that never close (their end tag does not exist).
_VOID = {"meta", "link", "br", "img", "input", "hr"}
# What the template writes; anything else in a page was made by text.
_OURS = {
    "html", "head", "meta", "title", "link", "style", "body", "nav", "a", "header", "h1", "p",
    "time", "main", "section", "h2", "article", "h3", "ul", "li", "h4", "code", "button",
    "bdi", "span", "footer", "script",
}  # fmt: skip
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")

HOSTILE = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
TEMPLATE = "{{ 7*7 }}{% raw %}{# x #}"
OVERRIDE = "\u202eexe.txt\u202c"


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""  # its text and its descendants'
    # The elements it sits in, outermost first.
    within: tuple[str, ...] = ()


@dataclass
class Page(HTMLParser):
    """Every element of a page with its attributes and text, as the parser sees them."""

    elements: list[Element] = field(default_factory=list)
    texts: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs), within=tuple(e.tag for e in self._open))
        self.elements.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self._open, f"</{tag}> closes nothing"
        assert self._open[-1].tag == tag, f"</{tag}> closes <{self._open[-1].tag}>"
        self._open.pop()

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data
        self.texts.append((data, tuple(e.tag for e in self._open)))

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def text_of(self, tag: str) -> list[str]:
        return [e.text for e in self.all(tag)]


def parse(page: str) -> Page:
    parsed = Page()
    parsed.feed(page)
    parsed.close()
    assert not parsed._open, "every element is closed"
    return parsed


def hostile_day() -> ReportDocument:
    article = DocumentItem(
        kind=ItemKind.ARTICLE,
        section=Section.MALWARE_CAMPAIGN,
        title=HOSTILE + TEMPLATE + OVERRIDE,
        url="javascript:alert(document.domain)",
        summary=["<script>alert(2)</script>", "</li></ul><a href='javascript:x'>click</a>"],
        iocs=[
            DocumentIoc("domain", "evil.example", "evil[.]example"),
            DocumentIoc("url", 'https://evil.example/"><svg onload=x>', "hxxps://evil[.]example/"),
            DocumentIoc("domain", "ev\u202eil.example", "ev\u202eil[.]example"),
            DocumentIoc("domain", "example.com", "example[.]com", ("benign",)),
            DocumentIoc("domain", "news.example", "news[.]example", ("source-site",)),
        ],
        recommendations=[TEMPLATE],
        other=["Block 45.137.21.9 and https://drop.example/a.bin now"],
        model_recommendations=["<b onmouseover=alert(3)>bold</b>"],
        sources=[
            DocumentSource(url="data:text/html,<script>alert(4)</script>"),
            DocumentSource(url="https://other.example/same-story", title="<i>Other</i>"),
        ],
    )
    links = [
        DocumentItem(
            kind=ItemKind.LINK,
            section=Section.JAPAN_INCIDENTS,
            title=f"{HOSTILE} link",
            url=url,
        )
        for url in (
            " JaVaScRiPt:alert(5)",
            "java\tscript:alert(6)",
            "//evil.example/protocol-relative",
            "https://ok.example/a\"onmouseover='x'",
            "https:\\\\evil.example",
        )
    ]
    return ReportDocument(day=DAY, items=[article, *links])


def render(document: ReportDocument, labels: Labels = JA, **days: date | None) -> str:
    return render_day_html(
        document,
        labels,
        lang="ja" if labels is JA else "en",
        previous_day=days.get("previous_day"),
        next_day=days.get("next_day"),
    )


def test_hostile_text_never_becomes_markup() -> None:
    page = parse(render(hostile_day(), previous_day=date(2024, 12, 5)))

    assert {e.tag for e in page.elements} <= _OURS
    ((script,),) = [page.all("script")]
    assert script.text == SCRIPT
    assert [e.text for e in page.all("style")] == [STYLE]
    assert not [(e.tag, name) for e in page.elements for name in e.attrs if name.startswith("on")]
    # The title is one text, as written, and its javascript: URL text beside it.
    (heading,) = page.all("h3")
    (title,) = [e.text for e in page.all("bdi") if "h3" in e.within]
    assert title == HOSTILE + TEMPLATE + OVERRIDE
    assert heading.text == f"{title} javascript:alert(document.domain)"
    assert not [a for a in page.all("a") if "h3" in a.within]
    summary = [e.text for e in page.all("bdi") if e.within[-2:] == ("ul", "li")]
    assert "<script>alert(2)</script>" in summary
    assert "<b onmouseover=alert(3)>bold</b>" in summary
    assert TEMPLATE in summary


def test_only_web_urls_and_the_next_days_are_links() -> None:
    page = parse(render(hostile_day(), previous_day=date(2024, 12, 5), next_day=DAY))
    hrefs = [str(a.attrs["href"]) for a in page.all("a")]

    assert hrefs == [
        "2024-12-05?format=html",
        "2024-12-06?format=html",
        "https://other.example/same-story",
        "https://ok.example/a\"onmouseover='x'",
    ]
    for href in hrefs:
        assert re.match(r"https://|\d{4}-\d\d-\d\d\?format=html$", href)
    assert [link.attrs["href"] for link in page.all("link")] == ["data:,"]
    # What is not a link is still shown, as text.
    text = "".join(t for t, _ in page.texts)
    assert "javascript:alert(document.domain)" not in hrefs
    for shown in ("JaVaScRiPt:alert(5)", "//evil.example/protocol-relative", "data:text/html"):
        assert shown in text


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        " https://x.example",
        "https://x.example/\nx",
        "data:text/html,x",
        "vbscript:x",
        "https:/x.example",
        "https:///x.example",
        "ftp://x.example",
        "",
        None,
    ],
)
def test_a_url_that_is_not_http_is_never_a_link_target(url: str | None) -> None:
    assert web_url(url) is None


def test_http_and_https_urls_are_link_targets() -> None:
    assert web_url("https://x.example/a?b=1#c") == "https://x.example/a?b=1#c"
    assert web_url("HTTP://x.example") == "HTTP://x.example"


def test_text_with_direction_overrides_is_isolated_and_indicators_show_them() -> None:
    page = parse(render(hostile_day()))

    overridden = [within for text, within in page.texts if _BIDI.search(text)]
    assert overridden
    assert all("bdi" in within for within in overridden)
    codes = page.text_of("code")
    assert "ev<U+202E>il[.]example" in codes
    copies = [b.attrs["data-copy"] for b in page.all("button")]
    assert "ev\u202eil.example" in copies


def test_indicators_are_defanged_with_their_live_value_to_copy_and_benign_ones_left_out() -> None:
    document = hostile_day()
    page = parse(render(document))

    codes = page.text_of("code")
    copies = [b.attrs["data-copy"] for b in page.all("button")]
    assert codes == ["evil[.]example", "hxxps://evil[.]example/", "ev<U+202E>il[.]example"]
    assert copies == ["evil.example", 'https://evil.example/"><svg onload=x>', "ev\u202eil.example"]
    # The same indicators as the Markdown lists (its own reader says which).
    markdown = render_report(document, JA)
    listed = _markdown_iocs(markdown, JA.iocs)
    assert [c.replace("<U+202E>", "\u202e") for c in codes] == listed
    # No live indicator in the text either, as in the Markdown.
    other = [e.text for e in page.all("bdi") if "Block" in e.text]
    assert other == ["Block 45.137.21[.]9 and hxxps://drop[.]example/a.bin now"]


def _markdown_iocs(markdown: str, heading: str) -> list[str]:
    """The lines under the IOC heading, as a CommonMark reader sees them."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    found: list[str] = []
    under = False
    depth = 0
    for token in tokens:
        if token.type == "bullet_list_open":
            depth += 1
        elif token.type == "bullet_list_close":
            depth -= 1
        elif token.type == "inline" and depth == 1:
            under = token.content == heading
        elif token.type == "inline" and depth == 2 and under:
            found.append(token.children[0].content if token.children else token.content)
    return found


def test_the_sample_reads_as_the_markdown_in_the_same_order(sample_markdown: str) -> None:
    document = parse_report(sample_markdown, day=DAY)
    page = parse(render(document))
    tokens = MarkdownIt("commonmark").parse(render_report(document, JA))
    headings = {
        level: [
            tokens[i + 1].content
            for i, t in enumerate(tokens)
            if t.type == "heading_open" and t.tag == level
        ]
        for level in ("h3", "h4")
    }

    assert page.text_of("h1") == ["Daily Security Info"]
    assert [e.text for e in page.all("h2")] == headings["h3"]
    assert [e.text for e in page.all("bdi") if "h3" in e.within] == headings["h4"]
    assert len(page.all("article")) == 6
    links = [a.attrs["href"] for a in page.all("a") if "li" in a.within]
    assert links == [
        "https://www.security-next.com/164989",
        "https://x.com/1ZRR4H/status/1864756380197921130",
    ]
    assert [h.text for h in page.all("h4")][:5] == [
        JA.summary,
        JA.iocs,
        JA.recommendations,
        JA.other,
        JA.model_recommendations,
    ]
    assert page.text_of("p").count("N/A") == 4  # the four sections before the news
    assert page.all("html")[0].attrs["lang"] == "ja"


def test_english_labels_and_words() -> None:
    document = ReportDocument(day=DAY, items=[])
    page = parse(render(document, EN, next_day=date(2024, 12, 7)))

    assert [e.text for e in page.all("h2")][-1] == EN.sections[Section.MEMOS]
    (following,) = page.all("a")
    assert following.text == "Next day 2024-12-07 →"
    assert following.attrs["rel"] == "next"


def test_no_neighbours_no_navigation() -> None:
    page = parse(render(ReportDocument(day=DAY, items=[])))
    assert page.all("nav") == []
    assert page.all("a") == []


def test_the_policy_allows_exactly_the_inline_style_and_script() -> None:
    page = parse(render(hostile_day()))
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))

    def source(text: str) -> str:
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        return f"'sha256-{base64.b64encode(digest).decode()}'"

    assert directives["style-src"] == source(page.all("style")[0].text)
    assert directives["script-src"] == source(page.all("script")[0].text)
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    # The files could not end the element they are inserted in.
    assert "</script" not in SCRIPT.lower()
    assert "</style" not in STYLE.lower()
