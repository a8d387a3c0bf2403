"""The daily digest as Slack Block Kit messages, for an incoming webhook. Pure.

A message is a title (first message only), then per section a `header` block and one or
more `section` blocks per entry, a `divider` between sections, and the report's page as a
`context` block at the very end. Messages are cut between entries only: an entry longer
than a block's text goes on in the next blocks of the same message. Besides the 50 blocks
and 3,000 characters a block, a message holds at most MAX_MESSAGE_TEXT of text in all.

Text from pages and models is made inert before it is placed, because Slack has no escape
for its formatting characters (only `&`, `<` and `>` have entities):
- whitespace is folded (no text can start a line, where `>` quotes), indicators defanged
  (no bare URL or domain for Slack to turn into a link), `&`, `<`, `>` escaped (no
  `<url|label>`, `<!channel>`, `<@U…>`, `<#C…>`);
- `*`, `_`, `~` and backticks (and the full-width `＊`, `＿`, `｀`) become look-alikes:
  `*`→`∗`, `_`→`ˍ`, `~`→`∼`, `` ` ``→`ˋ` (the replacements jsx-slack uses inside links;
  a zero-width space would not help: it is what makes Slack format inside words);
- every mrkdwn text is `verbatim`, so Slack parses no URL, channel or mention in it.
IOCs go into code spans (no formatting applies there), with a backtick made a look-alike.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.services.iocs import defang_text
from app.services.reports.document import DocumentItem, ItemKind, ReportDocument

if TYPE_CHECKING:  # a type only: building messages needs no Markdown renderer (Jinja2)
    from app.services.markdown import Labels

# Slack's limits (https://api.slack.com/reference/block-kit/blocks): "You can include up
# to 50 blocks in each message"; a section block's text: "Maximum length for the text in
# this field is 3000 characters"; a header block's text: "Maximum length for the text in
# this field is 150 characters". Lengths are counted in UTF-16 code units (what Slack's
# JavaScript counts; an emoji outside the BMP is two), never less than Python's len().
MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
# Not in Slack's reference, but enforced: a message whose blocks hold more text in all is
# refused (`msg_blocks_too_long`); Slack's staff gave "12,000 text characters with a buffer
# for block containers" (slackapi/bolt-js#2509), and refusals were seen at 11,341
# (slackapi/bolt-js#2867). Ours, with a margin: every text of every block counted.
MAX_MESSAGE_TEXT = 10_000
# Ours, so that a title or a link line always fits in one block: a longer URL is not
# linked, a longer link label is shortened.
MAX_URL = 1500
MAX_LABEL = 1000
# An entry always fits in a fresh message after the title and its section's header; the
# rare longer one (about ten screens of text) is cut, with CUT as its last line: the
# report's page (`link`) has it whole.
MAX_ENTRY_TEXT = MAX_MESSAGE_TEXT - 2 * MAX_HEADER

BULLET = "• "
SOURCE = "↳ "
# Starts the lines a long line goes on in: never outside text at the start of a line.
CONTINUED = "…"
CUT = "[…]"  # what follows is left out

_LOOKALIKES = str.maketrans(
    {"*": "∗", "＊": "﹡", "_": "ˍ", "＿": "⸏", "~": "∼", "`": "ˋ", "｀": "ˋ"}
)
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SPECIAL = re.compile(r"[&<>]")
# Control characters that folding whitespace leaves (C0 and C1, DEL), and lone surrogates
# (no JSON encoder takes them).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f\ud800-\udfff]")
# What would end a URL inside `<url|label>` or make it two tokens.
_URL_UNSAFE = re.compile(r"[\s<>|\x00-\x1f\x7f]")

Block = dict[str, Any]


def _units(text: str) -> int:
    """Length as Slack counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _folded(value: str) -> str:
    return " ".join(_CONTROL.sub("", value).split())


def _escape(text: str) -> str:
    return _SPECIAL.sub(lambda m: _ENTITIES[m.group()], text)


def _inert(value: str) -> str:
    """Outside text as one line of mrkdwn that formats, links and mentions nothing."""
    return _escape(defang_text(_folded(value)).translate(_LOOKALIKES))


def _plain(value: str, limit: int) -> str:
    """A plain_text value: one line, at most limit units (plain_text parses nothing)."""
    text = _folded(value) or "-"
    return text if _units(text) <= limit else _cut_at(text, limit - 1)[0] + "…"


def _link_target(url: str | None) -> str | None:
    """The URL as the target of a Slack link, or None when it must not become one."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    target = _escape(
        _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url)
    )
    return target if _units(target) <= MAX_URL else None


def _label(value: str, fallback: str) -> str:
    text = _inert(value) or _inert(fallback) or CUT
    if _units(text) <= MAX_LABEL:
        return text
    return _cut_at(text, MAX_LABEL - 1)[0] + "…"


def _host(url: str) -> str:
    try:
        return urlsplit(url.strip()).hostname or url
    except ValueError:
        return url


def _link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL, else the label alone (label already inert)."""
    target = _link_target(url)
    return f"<{target}|{label}>" if target else label


def _cut_at(text: str, room: int) -> tuple[str, str]:
    """text split so that the head has at most room units, preferring a space, never
    inside an entity (`&amp;`); head + tail == text."""
    used, end = 0, 0
    for end, char in enumerate(text):  # noqa: B007 (end is used after the loop)
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            break
    else:
        return text, ""
    amp = text.rfind("&", max(0, end - 4), end)
    if amp != -1 and ";" not in text[amp:end]:
        end = amp
    space = text.rfind(" ", end // 2, end)
    if space != -1:
        end = space + 1
    end = max(end, 1)
    return text[:end], text[end:]


def _wrapped(first: str, text: str, *, code: bool = False) -> list[str]:
    """One logical line (`first` + text, text in a code span if code) as lines of at most
    MAX_TEXT units; the lines after the first start with CONTINUED."""
    tick = "`" if code else ""
    lines: list[str] = []
    prefix = first
    while True:
        room = MAX_TEXT - _units(prefix) - 2 * len(tick)
        head, text = _cut_at(text, room)
        lines.append(f"{prefix}{tick}{head}{tick}")
        if not text:
            return lines
        prefix = CONTINUED


def _bullets(values: list[str]) -> list[str]:
    return [line for text in map(_inert, values) if text for line in _wrapped(BULLET, text)]


def _article_lines(item: DocumentItem, labels: Labels) -> list[str]:
    title = _label(item.title, _host(item.url or ""))
    lines = [f"*{_link(item.url, title)}*"]
    if _link_target(item.url):
        for source in item.sources:
            if _link_target(source.url):
                label = _label(source.title or "", _host(source.url))
                lines.append(SOURCE + _link(source.url, label))
    iocs = [
        line
        for ioc in item.iocs
        if ioc.is_evidence and (value := _escape(_folded(ioc.defanged).replace("`", "ˋ")))
        for line in _wrapped(BULLET, value, code=True)
    ]
    for heading, lines_of in (
        (labels.summary, _bullets(item.summary)),
        (labels.iocs, iocs),
        (labels.recommendations, _bullets(item.recommendations)),
        (labels.other, _bullets(item.other)),
        (labels.model_recommendations, _bullets(item.model_recommendations)),
    ):
        # An empty list is left out: the page (`link`) has the full entry.
        if lines_of:
            lines.append(f"*{_inert(heading)}*")
            lines.extend(lines_of)
    return lines


def _link_line(item: DocumentItem) -> str:
    return BULLET + _link(item.url, _label(item.title, _host(item.url or "")))


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _texts(lines: list[str]) -> list[str]:
    """Lines (each at most MAX_TEXT units) packed into as few texts as fit."""
    texts: list[str] = []
    for line in lines:
        if texts and _units(texts[-1]) + 1 + _units(line) <= MAX_TEXT:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return texts


def _entry_blocks(item: DocumentItem, labels: Labels) -> list[Block]:
    kept: list[str] = []
    used = 0  # a line's units and its newline: an upper bound of the blocks' text
    for line in _article_lines(item, labels):
        if used + _units(line) + 1 > MAX_ENTRY_TEXT - _units(CUT):
            kept.append(CUT)
            break
        kept.append(line)
        used += _units(line) + 1
    return [_section(text) for text in _texts(kept)]


def _text_units(blocks: list[Block]) -> int:
    """The text a message's blocks hold, as MAX_MESSAGE_TEXT counts it."""
    total = 0
    for block in blocks:
        objects = [block["text"]] if "text" in block else block.get("elements", [])
        total += sum(_units(obj["text"]) for obj in objects)
    return total


def _unbreakable(items: list[DocumentItem], labels: Labels) -> list[list[Block]]:
    """A section's entries as the units a message may not cut: an article's blocks; link
    lines packed into blocks, each block a unit."""
    result: list[list[Block]] = []
    links: list[str] = []
    for item in items:
        if item.kind == ItemKind.LINK:
            links.append(_link_line(item))
            continue
        result.extend([_section(text)] for text in _texts(links))
        links = []
        result.append(_entry_blocks(item, labels))
    result.extend([_section(text)] for text in _texts(links))
    return result


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _plain(text, MAX_HEADER)}}


def _context(link: str) -> Block:
    target = _link_target(link)
    if target is None:
        raise ValueError("the report's link must be an http(s) URL of at most 1500 characters")
    element = {"type": "mrkdwn", "text": f"<{target}>", "verbatim": True}
    return {"type": "context", "elements": [element]}


def slack_messages(
    document: ReportDocument, labels: Labels, *, title: str, link: str | None = None
) -> list[dict[str, Any]]:
    """The digest as Slack messages (`text`, the notification fallback, and `blocks`), in
    order, each within Slack's limits; `link` (the report's page) ends the last one."""
    closing = [_context(link)] if link else []
    messages: list[list[Block]] = [[_header(title)]]
    sections = [(section, items) for section, items in document.by_section() if items]
    if not sections:
        messages[0].extend([_section(_inert(labels.empty_section)), *closing])
        return _finished(messages, title)
    used = _text_units(messages[0])
    for section, items in sections:
        heading = _header(labels.sections[section])
        for index, unit in enumerate(_unbreakable(items, labels)):
            blocks = messages[-1]
            opening = [heading] if index == 0 else []
            if opening and blocks[-1]["type"] != "header":
                opening.insert(0, {"type": "divider"})
            cost = _text_units(opening + unit)
            if len(blocks) + len(opening) + len(unit) > MAX_BLOCKS or (
                used + cost > MAX_MESSAGE_TEXT
            ):
                # A new message says again which section it is in.
                messages.append([heading])
                opening, used = [], _text_units([heading])
                cost = _text_units(unit)
            messages[-1].extend([*opening, *unit])
            used += cost
    if closing and (
        len(messages[-1]) + 1 > MAX_BLOCKS or used + _text_units(closing) > MAX_MESSAGE_TEXT
    ):
        messages.append([])
    messages[-1].extend(closing)
    return _finished(messages, title)


def _finished(messages: list[list[Block]], title: str) -> list[dict[str, Any]]:
    # The fallback is mrkdwn too (notifications, screen readers): our words only.
    name = _cut_at(_inert(title), MAX_HEADER)[0]
    count = len(messages)
    return [
        {"text": name if count == 1 else f"{name} ({number}/{count})", "blocks": blocks}
        for number, blocks in enumerate(messages, start=1)
    ]
