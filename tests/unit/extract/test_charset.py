"""Charsets: BOM, header, meta prescan, UTF-8 check, detection, WHATWG label mapping."""

from __future__ import annotations

import codecs

import pytest

from app.services.extract.charset import parser_input
from tests.support.paths import FIXTURES

SITE = FIXTURES / "site"
JA = "不正アクセスによる情報漏えいの可能性について、お知らせいたします。"


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The page as text and its codec, as the parser gets it (valid UTF-8 comes as bytes)."""
    data, codec = parser_input(body, content_type)
    return (data.decode("utf-8") if isinstance(data, bytes) else data), codec


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_decodes_shift_jis_declared_only_in_meta() -> None:
    text, codec = decode_html((SITE / "jp-sjis.html").read_bytes(), "text/html")
    assert codec == "cp932"
    assert "ランサムウェア" in text
    assert "\ufffd" not in text


def test_decodes_euc_jp_declared_by_http_equiv() -> None:
    text, codec = decode_html((SITE / "jp-eucjp.html").read_bytes())
    assert codec == "euc_jp"
    assert "改ざん" in text


def test_prefers_utf8_when_page_declares_shift_jis_but_is_utf8() -> None:
    text, codec = decode_html((SITE / "jp-utf8-declared-sjis.html").read_bytes(), "text/html")
    assert codec == "utf-8"
    assert "不正ログイン" in text


def test_prefers_utf8_over_euc_jp_header_when_bytes_are_utf8() -> None:
    text, codec = decode_html(_page(JA).encode(), "text/html; charset=EUC-JP")
    assert codec == "utf-8"
    assert JA in text


def test_header_charset_wins_over_meta() -> None:
    body = _page("café", '<meta charset="utf-8">').encode("cp1252")
    text, codec = decode_html(body, 'text/html; charset="ISO-8859-1"')
    assert codec == "cp1252"
    assert "café" in text


def test_meta_shift_jis_wins_when_header_utf8_is_wrong() -> None:
    body = _page(JA, '<meta charset="Shift_JIS">').encode("cp932")
    text, codec = decode_html(body, "text/html; charset=UTF-8")
    assert codec == "cp932"
    assert JA in text


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Shift_JIS", "cp932"),
        ("sjis", "cp932"),
        ("x-sjis", "cp932"),
        ("Windows-31J", "cp932"),
        ("MS_Kanji", "cp932"),
        ("EUC-JP", "euc_jp"),
        ("iso-8859-1", "cp1252"),
        ("latin1", "cp1252"),
        ("US-ASCII", "cp1252"),
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("koi8-r", "koi8-r"),
    ],
)
def test_maps_labels_the_way_browsers_do(label: str, expected: str) -> None:
    body = _page("caf\xe9 \x93quoted\x94").encode("latin-1")
    _, codec = decode_html(body, f"text/html; charset={label}")
    assert codec == expected


def test_latin1_label_decodes_windows_1252_quotes() -> None:
    body = _page("\u201cquoted\u201d").encode("cp1252")
    text, _ = decode_html(body, "text/html; charset=iso-8859-1")
    assert "\u201cquoted\u201d" in text


@pytest.mark.parametrize("label", ["no-such-charset", "base64", "rot13", ""])
def test_ignores_unknown_or_non_text_labels(label: str) -> None:
    text, codec = decode_html(_page(JA, f'<meta charset="{label}">').encode(), f"charset={label}")
    assert codec == "utf-8"
    assert JA in text


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_mark_wins_over_declarations(bom: bytes, codec: str) -> None:
    body = bom + _page(JA, '<meta charset="Shift_JIS">').encode(codec)
    text, used = decode_html(body, "text/html; charset=EUC-JP")
    assert used == codec
    assert text.startswith("<html>")
    assert JA in text


def test_undeclared_utf8_is_decoded_as_utf8() -> None:
    text, codec = decode_html(_page(JA).encode())
    assert (codec, JA in text) == ("utf-8", True)


def test_detects_undeclared_shift_jis() -> None:
    body = _page(JA * 20).encode("cp932")
    text, codec = decode_html(body)
    assert codec == "cp932"
    assert JA in text


def test_meta_utf16_declaration_means_utf8() -> None:
    text, codec = decode_html(_page(JA, '<meta charset="utf-16">').encode())
    assert codec == "utf-8"
    assert JA in text


@pytest.mark.parametrize(
    "body", [b"", b"\xff\xfe\xfd", b"\x81\x8d\x8f\x90\x9d" * 10, bytes(range(256))]
)
def test_never_raises_on_odd_bytes(body: bytes) -> None:
    text, codec = decode_html(body, "text/html; charset=utf-8")
    assert isinstance(text, str)
    assert codec


def test_parser_gets_the_bytes_themselves_when_they_are_utf8() -> None:
    body = '<meta charset="Shift_JIS"><p>攻撃</p>'.encode()
    assert parser_input(body) == (body, "utf-8")
    assert parser_input(codecs.BOM_UTF8 + body) == (body, "utf-8")


def test_parser_gets_decoded_text_for_other_encodings() -> None:
    body = '<meta charset="Shift_JIS"><p>攻撃</p>'.encode("cp932")
    assert parser_input(body) == ('<meta charset="Shift_JIS"><p>攻撃</p>', "cp932")


def test_a_shift_jis_page_labelled_utf8_by_the_server_without_meta_is_detected() -> None:
    text = (
        "<html><body><p>"
        + "不正アクセスにより顧客情報が流出した可能性があると公表しました。" * 8
        + "</p></body></html>"
    )
    decoded, codec = decode_html(text.encode("cp932"), "text/html; charset=UTF-8")
    assert "不正アクセス" in decoded
    assert codec != "utf-8"
