"""Text from pages and models made safe for one Markdown line, and back.

Everything that could change the digest's structure is neutralised: newlines are folded,
a leading `#`, `-`, `>`, `[`... is escaped, and brackets and angle brackets are escaped so
that no text can add a link, an image or HTML. The escapes are CommonMark backslash escapes,
so viewers show the text as written, and `unescape_text(escape_text(s))` gives `s` back
(whitespace folded).

Defang brackets (`evil[.]com`) stay as written in the middle of a line: without a link
reference definition they are plain text. A definition (`[.]: //evil.example`) can only
stand at the start of a paragraph, and every line the digest fills with outside text is a
paragraph of its own (a list entry, a URL line), so a leading `[` is always escaped: no
text can define a label that would turn the day's `[.]`s into links.
"""

from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")
# A backslash that a Markdown reader would take as an escape: before ASCII punctuation.
_ESCAPING_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~])|\\$")
# Defang brackets (`evil[.]com`, `user[@]host`, `hxxp[://]`) are how analysts write
# indicators; they form no link unless a `(` follows, so they are left as written.
_INLINE_SPECIALS = re.compile(
    r"(?P<defang>\[(?:\.|:|@|dot|at|://|/)\](?!\())|[\[\]<>]", re.IGNORECASE
)
_LEADING_MARKER = re.compile(r"^(?:[#>+*=|-]|`{3}|~{3})")
# A bracket group at the very start of a line (only defang brackets are still unescaped).
_LEADING_GROUP = re.compile(r"^\[([^\[\]\\]*)\]")
_LEADING_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_URL_UNSAFE = re.compile(r"[\s<>()\"'\x00-\x1f\x7f]")


def fold_whitespace(text: str) -> str:
    """One line: every run of whitespace (newlines included) becomes one space."""
    return _WHITESPACE.sub(" ", text).strip()


def escape_text(text: str) -> str:
    """A value as one inert Markdown line."""
    line = fold_whitespace(text)
    line = _ESCAPING_BACKSLASH.sub(r"\\\\", line)
    line = _INLINE_SPECIALS.sub(_escape_special, line)
    ordered = _LEADING_ORDERED.match(line)
    if ordered:
        return f"{ordered.group(1)}\\{ordered.group(2)}{line[ordered.end() :]}"
    if _LEADING_MARKER.match(line):
        return "\\" + line
    return guard_line_start(line)


def _escape_special(match: re.Match[str]) -> str:
    if match.group("defang"):
        return match.group()
    return "\\" + match.group()


def unescape_text(line: str) -> str:
    """The value a line written by `escape_text` stands for."""
    return _UNESCAPE.sub(r"\1", line)


def guard_line_start(line: str) -> str:
    """`line` with a leading `[` escaped: a paragraph starting `[label]:` is a definition.

    Both brackets of a leading group are escaped, so that the line stays balanced inside the
    text of a link line (`- [\\[.\\]: ...](url)`).
    """
    if not line.startswith("["):
        return line
    group = _LEADING_GROUP.match(line)
    if group is None:
        return "\\" + line
    return f"\\[{group.group(1)}\\]{line[group.end() :]}"


def escape_url(url: str) -> str:
    """A URL that stays one token in a line and inside `(...)` of a link.

    A URL line is a paragraph: a value that does not start like a URL (`[x]:%20//evil`,
    `<`, `#`) has its first character percent-encoded, so it cannot open a definition,
    a heading or HTML.
    """
    encoded = _URL_UNSAFE.sub(_percent, url.strip())
    if encoded and not encoded[0].isalnum():
        return _percent_char(encoded[0]) + encoded[1:]
    return encoded


def _percent(match: re.Match[str]) -> str:
    return _percent_char(match.group())


def _percent_char(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
