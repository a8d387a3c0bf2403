"""Bytes of a web page to text, choosing the encoding the way a browser would."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# WHATWG Encoding Standard labels whose Python codec differs from the label's literal meaning:
# browsers decode "Shift_JIS" as Windows-31J, "ISO-8859-1" and "ASCII" as windows-1252, and
# so on. Decoding with the literal codec loses characters that real pages rely on.
_WHATWG: dict[str, str] = {
    **dict.fromkeys(
        ("utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"),
        "utf-8",
    ),
    **dict.fromkeys(
        (
            "shift_jis",
            "shift-jis",
            "sjis",
            "x-sjis",
            "windows-31j",
            "ms_kanji",
            "ms932",
            "cp932",
            "csshiftjis",
            "x-ms-cp932",
        ),
        "cp932",
    ),
    **dict.fromkeys(("euc-jp", "euc_jp", "eucjp", "x-euc-jp", "cseucpkdfmtjapanese"), "euc_jp"),
    **dict.fromkeys(("iso-2022-jp", "csiso2022jp"), "iso2022_jp"),
    **dict.fromkeys(
        (
            "iso-8859-1",
            "iso8859-1",
            "iso_8859-1",
            "latin1",
            "l1",
            "us-ascii",
            "ascii",
            "cp819",
            "ibm819",
            "iso-ir-100",
            "csisolatin1",
            "windows-1252",
            "cp1252",
            "x-cp1252",
            "ansi_x3.4-1968",
        ),
        "cp1252",
    ),
    **dict.fromkeys(
        (
            "gb2312",
            "gbk",
            "gb18030",
            "x-gbk",
            "cp936",
            "chinese",
            "csgb2312",
            "euc-cn",
            "gb_2312-80",
        ),
        "gb18030",
    ),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(
        (
            "euc-kr",
            "euc_kr",
            "ks_c_5601-1987",
            "ks_c_5601-1989",
            "ksc5601",
            "korean",
            "windows-949",
            "cp949",
            "csksc56011987",
        ),
        "cp949",
    ),
    **dict.fromkeys(("iso-8859-9", "latin5", "iso8859-9"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "windows-874"), "cp874"),
    **dict.fromkeys(("utf-16le", "utf-16"), "utf-16-le"),
    "utf-16be": "utf-16-be",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:+-]+)", re.IGNORECASE)
# One pattern covers <meta charset=x> and <meta http-equiv=Content-Type content="...; charset=x">.
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([\w.:+-]+)", re.IGNORECASE)
_PRESCAN_BYTES = 16_384
_DETECT_BYTES = 65_536


def _codec_for(label: str | None) -> str | None:
    """Map a declared label to a Python codec, or None when no browser would accept it."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _WHATWG:
        return _WHATWG[label]
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # codecs.lookup also knows "base64", "rot13", "zlib"...: those are not page encodings.
    if not getattr(info, "_is_text_encoding", True) or info.name in {"undefined", "mbcs"}:
        return None
    return info.name


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(body: bytes) -> str | None:
    """Best guess of charset-normalizer over the head of the page, as a Python codec."""
    try:
        match = from_bytes(body[:_DETECT_BYTES]).best()
    except Exception:  # a detector failure must not fail the page; cp1252 follows
        return None
    return _codec_for(match.encoding) if match is not None else None


def _decode(body: bytes, codec: str) -> tuple[str, str]:
    try:
        return body.decode(codec, errors="replace"), codec
    except (LookupError, ValueError):
        return body.decode("cp1252", errors="replace"), "cp1252"


def _choose(body: bytes, content_type: str | None) -> tuple[str, int, bool | None]:
    """(python codec, length of the byte order mark, whether the bytes are valid UTF-8 or None
    when not checked) for the bytes of a page."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec, len(bom), None

    declared: list[str] = []
    if content_type and (header := _HEADER_CHARSET.search(content_type)):
        from_header = _codec_for(header.group(1))
        if from_header:
            declared.append(from_header)
    if meta := _META_CHARSET.search(body, 0, _PRESCAN_BYTES):
        from_meta = _codec_for(meta.group(1).decode("ascii", "replace"))
        # A meta tag cannot sensibly declare UTF-16 (the tag itself was read as ASCII).
        if from_meta and from_meta.startswith("utf-16"):
            from_meta = "utf-8"
        if from_meta:
            declared.append(from_meta)

    utf8 = _is_utf8(body)
    if declared:
        codec = declared[0]
        if codec == "utf-8":
            # A server default of UTF-8 in front of a Shift_JIS page whose meta says so.
            if not utf8 and len(declared) > 1 and declared[1] != "utf-8":
                codec = declared[1]
            elif not utf8:
                # Declared UTF-8 (a server default) over bytes that are not: read what they
                # are rather than a page of replacement characters.
                codec = _detect(body) or "utf-8"
            return codec, 0, utf8
        if utf8 and not body.isascii():
            # Sites that declare Shift_JIS or EUC-JP but were saved as UTF-8 are common.
            return "utf-8", 0, utf8
        return codec, 0, utf8
    if utf8:
        return "utf-8", 0, utf8
    return _detect(body) or "cp1252", 0, utf8


def parser_input(body: bytes, content_type: str | None = None) -> tuple[bytes | str, str]:
    """What to give Lexbor, and the codec: the bytes themselves when they are valid UTF-8.

    Lexbor reads bytes as UTF-8 whatever the page declares, so a valid UTF-8 page needs no
    decoding here and no re-encoding in the parser; anything else is decoded first.
    """
    codec, skip, utf8 = _choose(body, content_type)
    if codec == "utf-8" and (utf8 if utf8 is not None else _is_utf8(body[skip:])):
        return body[skip:], codec
    return _decode(body[skip:], codec)
