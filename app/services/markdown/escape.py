"""Text from pages and models made safe for one Markdown line, and back.

Everything that could change the digest's structure is neutralised: newlines are folded,
a leading `#`, `-`, `>`... is escaped, and brackets and angle brackets are escaped so that
no text can add a link, an image or HTML. The escapes are CommonMark backslash escapes, so
viewers show the text as written, and `unescape_text(escape_text(s))` gives `s` back
(whitespace folded).
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
    return line


def _escape_special(match: re.Match[str]) -> str:
    if match.group("defang"):
        return match.group()
    return "\\" + match.group()


def unescape_text(line: str) -> str:
    """The value a line written by `escape_text` stands for."""
    return _UNESCAPE.sub(r"\1", line)


def escape_url(url: str) -> str:
    """A URL that stays one token in a line and inside `(...)` of a link."""
    return _URL_UNSAFE.sub(lambda match: f"%{ord(match.group()):02X}", url.strip())
