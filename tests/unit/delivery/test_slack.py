"""The digest as Slack messages: Slack's limits, every entry whole once, nothing live."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from app.services.delivery import slack_messages
from app.services.markdown import labels_for
from app.services.reports.document import (
    DocumentIoc,
    DocumentItem,
    DocumentSource,
    ItemKind,
    ReportDocument,
)
from app.services.reports.sections import LINK_SECTIONS, SECTION_ORDER, Section

LABELS = labels_for("ja")
TITLE = "Daily Security Info 2024-12-06"
LINK = "https://secdigest.example/reports/2024-12-06"
# Japanese, an emoji outside the BMP (two UTF-16 units: what Slack counts), no character
# that Slack or the defanger would rewrite, so that a line can be looked for as written.
PROSE = "攻撃者はフィッシングで認証情報を窃取した 🔥 Lateral movement followed. "
TOKEN = re.compile(r"E\d{3}[TS]\d{0,3}")


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def texts(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(block type, text) of every text object of a message, in order."""
    found: list[tuple[str, str]] = []
    for block in message["blocks"]:
        if "text" in block:
            found.append((block["type"], block["text"]["text"]))
        found.extend((block["type"], element["text"]) for element in block.get("elements", []))
    return found


def mrkdwn(messages: list[dict[str, Any]]) -> list[str]:
    return [
        obj["text"]
        for message in messages
        for block in message["blocks"]
        for obj in [block.get("text"), *block.get("elements", [])]
        if obj and obj["type"] == "mrkdwn"
    ]


def joined(message: dict[str, Any]) -> str:
    """A message's text with long lines put back together (a continuation starts `…`)."""
    return "\n".join(text for _, text in texts(message)).replace("\n…", "")


def assert_within_limits(message: dict[str, Any]) -> None:
    assert message["text"]
    assert 1 <= len(message["blocks"]) <= 50
    for kind, text in texts(message):
        assert text
        assert utf16(text) <= (150 if kind == "header" else 3000), (kind, utf16(text))
    # Slack refuses a message whose blocks hold about 12,000 characters in all.
    assert sum(utf16(text) for _, text in texts(message)) <= 10_000
    for block in message["blocks"]:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
        if block["type"] in ("section", "context"):
            objects = [block["text"]] if "text" in block else block["elements"]
            assert all(obj["type"] == "mrkdwn" and obj["verbatim"] for obj in objects)


def ioc(n: int, j: int, flags: tuple[str, ...] = ()) -> DocumentIoc:
    return DocumentIoc("domain", f"e{n}-{j}.evil.example", f"e{n}-{j}.evil[.]example", flags)


def big_day(count: int = 300) -> ReportDocument:
    """count entries over every section: long summaries, many IOCs (some benign), entries
    longer than a block, one line longer than a block, link lines."""
    items: list[DocumentItem] = []
    for n in range(count):
        section = SECTION_ORDER[n * len(SECTION_ORDER) // count]
        if section in LINK_SECTIONS:
            items.append(
                DocumentItem(
                    ItemKind.LINK, section, f"E{n:03d}T 日本の事例", f"https://jp.example/{n}"
                )
            )
            continue
        lines = 25 if n % 10 == 0 else 4  # a tenth are longer than a block by far
        summary = [f"E{n:03d}S{j:02d} " + PROSE * (3 + n % 5) for j in range(lines)]
        if n % 50 == 7:
            summary.append(f"E{n:03d}S99 " + PROSE * 120)  # one line of ~6,000 units
        iocs = [ioc(n, j, ("benign",) if j % 4 == 0 else ()) for j in range(n % 40)]
        items.append(
            DocumentItem(
                ItemKind.ARTICLE,
                section,
                f"E{n:03d}T 中国のハッカーによる侵入",
                f"https://news.example/{n}?a=1&b=2",
                summary=summary,
                iocs=iocs,
                recommendations=[f"E{n:03d}S50 推奨事項です"],
                sources=[DocumentSource(f"https://other.example/{n}")],
            )
        )
    return ReportDocument(date(2024, 12, 6), items)


def test_a_big_day_keeps_every_limit_and_every_entry_whole_in_one_message() -> None:
    day = big_day()
    messages = slack_messages(day, LABELS, title=TITLE, link=LINK)

    assert len(messages) > 3
    for message in messages:
        assert_within_limits(message)
    assert [m["text"] for m in messages][1] == f"{TITLE} (2/{len(messages)})"
    where: dict[str, list[int]] = {}
    for number, message in enumerate(messages):
        for token in TOKEN.findall(joined(message)):
            where.setdefault(token, []).append(number)
    order: list[str] = []
    for item in day.items:
        name = item.title.split()[0]
        assert len(where[name]) == 1, name  # once
        order.append(name)
        text = joined(messages[where[name][0]])
        for line in item.summary + item.recommendations:
            token = line.split()[0]
            assert where[token] == where[name], token  # in the entry's message
            assert f"• {line.rstrip()}" in text  # whole (folding drops the final space)
        for found in item.iocs:
            assert (f"• `{found.defanged}`" in text) is found.is_evidence
    everything = joined_all(messages)
    firsts = [everything.index(name) for name in order]
    assert firsts == sorted(firsts)  # in the report's order
    assert mrkdwn(messages)[-1] == f"<{LINK}>"


def joined_all(messages: list[dict[str, Any]]) -> str:
    return "\n".join(joined(message) for message in messages)


def test_many_short_entries_fill_messages_up_to_50_blocks() -> None:
    items = [
        DocumentItem(ItemKind.ARTICLE, Section.DAILY_NEWS, f"E{n:03d}T", f"https://n.example/{n}")
        for n in range(120)
    ]
    messages = slack_messages(ReportDocument(None, items), LABELS, title=TITLE, link=LINK)

    for message in messages:
        assert_within_limits(message)
    assert [len(message["blocks"]) for message in messages] == [50, 50, 25]
    assert TOKEN.findall(joined_all(messages)) == [f"E{n:03d}T" for n in range(120)]


def test_iocs_are_defanged_code_spans_and_benign_ones_are_left_out() -> None:
    item = big_day().items[39]
    text = joined_all(slack_messages(ReportDocument(None, [item]), LABELS, title=TITLE))

    for found in item.iocs:
        shown = f"• `{found.defanged}`" in text
        assert shown is found.is_evidence, found
    assert "evil.example" not in text
    assert f"*{LABELS.iocs}*" in text


def test_an_entry_and_a_line_longer_than_a_block_go_on_in_the_next_blocks() -> None:
    item = big_day().items[7]
    [message] = slack_messages(ReportDocument(None, [item]), LABELS, title=TITLE)

    sections = [text for kind, text in texts(message) if kind == "section"]
    assert len(sections) >= 3
    long_line = item.summary[-1]
    assert utf16(long_line) > 3000
    assert f"• {long_line.rstrip()}" in joined(message)
    assert any(text.startswith("…") for text in sections)  # cut mid-line, marked


def test_an_entry_longer_than_a_whole_message_is_cut_and_marked() -> None:
    item = DocumentItem(
        ItemKind.ARTICLE, Section.DAILY_NEWS, "E001T huge", "https://news.example/huge",
        summary=[f"E001S{j:02d} " + PROSE * 10 for j in range(70)],
    )  # fmt: skip
    following = DocumentItem(ItemKind.ARTICLE, Section.DAILY_NEWS, "E002T", None)
    day = ReportDocument(None, [item, following])

    messages = slack_messages(day, LABELS, title=TITLE, link=LINK)

    for message in messages:
        assert_within_limits(message)
    text = joined_all(messages)
    kept = [token for token in TOKEN.findall(text) if token.startswith("E001S")]
    assert 10 < len(kept) < 70
    assert kept == [f"E001S{j:02d}" for j in range(len(kept))]  # the beginning, in order
    assert f"{kept[-1]} {PROSE * 10}".rstrip() + "\n[…]\n" in text  # cut between lines, said
    assert "*E002T*" in text


HOSTILE = (
    "<!channel> <!here|here> <https://evil.example|click> <@U024BE7LH> <#C024BE7LR> "
    "*bold* _italic_ ~strike~ `code` ```pre``` ＊全角＊ &lt;b&gt; @channel > quote"
)


def hostile_day() -> ReportDocument:
    return ReportDocument(
        date(2024, 12, 6),
        [
            DocumentItem(
                ItemKind.ARTICLE,
                Section.DAILY_NEWS,
                HOSTILE,
                "https://ok.example/a?x=1&y=<!here>|label",
                summary=[HOSTILE, "> " + HOSTILE],
                iocs=[DocumentIoc("url", "hxxp://x", "hxxp://evil[.]example/`<!channel>`")],
                recommendations=[HOSTILE],
                other=["https://evil.com/live and evil.com"],
                sources=[
                    DocumentSource("javascript:alert(1)", HOSTILE),
                    DocumentSource("https://src.example/p", HOSTILE),
                ],
            ),
            DocumentItem(ItemKind.ARTICLE, Section.TOOLS, HOSTILE, "javascript:alert(1)"),
            DocumentItem(ItemKind.LINK, Section.MEMOS, HOSTILE, "data:text/html,<b>x</b>"),
            DocumentItem(ItemKind.LINK, Section.MEMOS, HOSTILE, "https://memo.example/1"),
        ],
    )


ALLOWED = ("https://ok.example/", "https://src.example/", "https://memo.example/", LINK)


def test_hostile_text_makes_no_link_no_mention_and_no_formatting() -> None:
    messages = slack_messages(hostile_day(), LABELS, title=TITLE, link=LINK)
    everything = [m["text"] for m in messages] + [t for m in messages for _, t in texts(m)]

    for text in everything:
        for token in re.findall(r"<([^>]*)>", text):
            target = token.split("|")[0]
            assert target.startswith(ALLOWED), token  # ours: no <!…>, <@…>, <#…>
            assert not re.search(r"[\s<>|]", target)
        assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt);)*", text), text  # & only as entities
    for text in mrkdwn(messages):
        for line in text.split("\n"):
            rest = re.sub(r"<https?://[^|>]*\|?", "<", line)  # link targets
            rest = re.sub(r"`[^`\n]*`", "", rest)  # IOC code spans
            rest = re.sub(r"^\*(.*)\*$", r"\1", rest)  # our bold title and list headings
            assert not re.search(r"[*_~`＊＿｀]", rest), line
            assert not rest.startswith(("&gt;", ">", "＞")), line  # no quote from outside
    text = joined_all(messages)
    assert "&amp;lt;b&amp;gt;" in text  # `&lt;` from a page shows as written
    assert "hxxps://evil[.]com/live and evil[.]com" in text  # nothing to auto-link
    assert "• `hxxp://evil[.]example/ˋ&lt;!channel&gt;ˋ`" in text  # one code span, closed
    assert "<https://ok.example/a?x=1&amp;y=%3C!here%3E%7Clabel|" in text
    assert "javascript" not in text
    assert "data:" not in text


def test_an_empty_day_is_one_message_saying_so() -> None:
    messages = slack_messages(ReportDocument(date(2024, 12, 6)), LABELS, title=TITLE, link=LINK)

    [message] = messages
    assert message["text"] == TITLE
    assert texts(message) == [
        ("header", TITLE),
        ("section", LABELS.empty_section),
        ("context", f"<{LINK}>"),
    ]


def test_headers_are_cut_to_150_units_and_sections_without_entries_are_left_out() -> None:
    long_heading = "見出し🔥" * 60
    labels = replace(LABELS, sections={**LABELS.sections, Section.TOOLS: long_heading})
    day = ReportDocument(None, [DocumentItem(ItemKind.ARTICLE, Section.TOOLS, "t", None)])

    [message] = slack_messages(day, labels, title="T" * 400)

    headers = [text for kind, text in texts(message) if kind == "header"]
    assert len(headers) == 2  # the title and the one section with an entry
    assert all(utf16(text) <= 150 and text.endswith("…") for text in headers)
    assert texts(message)[-1] == ("section", "*t*")  # no URL: no link, no empty lists


@pytest.mark.parametrize("link", ["javascript:alert(1)", "https://x.example/" + "a" * 2000])
def test_a_link_that_cannot_be_a_slack_link_is_refused(link: str) -> None:
    with pytest.raises(ValueError, match="http"):
        slack_messages(ReportDocument(None), LABELS, title=TITLE, link=link)


def test_a_new_message_repeats_its_sections_header() -> None:
    messages = slack_messages(big_day(), LABELS, title=TITLE)

    for message in messages[1:]:
        assert message["blocks"][0]["type"] == "header"
        assert message["blocks"][0]["text"]["text"] in LABELS.sections.values()
    for message in messages:
        types = [block["type"] for block in message["blocks"]]
        assert types[-1] != "header"  # a header is never left alone at the end
        assert types[0] != "divider"
