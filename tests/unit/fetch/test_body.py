"""Bodies within bounds: raw and inflated bytes counted, bombs stopped, binary told from text."""

from __future__ import annotations

import codecs
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest

from app.errors import FetchFailed, FetchTooLarge
from app.services.fetch._body import looks_binary, read_body
from tests.support.hostile import MB, SITE_DIR, bomb

ARTICLE = (SITE_DIR / "english-news.html").read_bytes()


def _response(body: bytes, *headers: tuple[str, str], chunk: int = 64 * 1024) -> httpx.Response:
    async def stream() -> AsyncIterator[bytes]:
        view = memoryview(body)
        for start in range(0, len(body), chunk):
            yield bytes(view[start : start + chunk])

    return httpx.Response(200, headers=list(headers), content=stream())


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", zlib.compress(ARTICLE, wbits=31)),
        ("x-gzip", zlib.compress(ARTICLE, wbits=31)),
        ("deflate", zlib.compress(ARTICLE)),  # as the RFC says: zlib-wrapped
        ("deflate", zlib.compress(ARTICLE, wbits=-15)),  # as many servers send it: raw
        ("identity", ARTICLE),
    ],
)
async def test_encoded_bodies_are_inflated_whole(encoding: str, body: bytes) -> None:
    for chunk in (1, 7, 64 * 1024):
        response = _response(body, ("Content-Encoding", encoding), chunk=chunk)
        assert await read_body(response, MB) == ARTICLE


async def test_concatenated_gzip_members_are_read_in_full() -> None:
    body = zlib.compress(ARTICLE[:1000], wbits=31) + zlib.compress(ARTICLE[1000:], wbits=31)

    assert await read_body(_response(body, ("Content-Encoding", "gzip")), MB) == ARTICLE


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_bomb_stops_at_the_cap_without_inflating_further(encoding: str) -> None:
    body = bomb(encoding, 10 * MB)  # ~10 GB of zeros once inflated
    cap = 2 * MB
    response = _response(body, ("Content-Encoding", encoding))
    tracemalloc.start()
    try:
        with pytest.raises(FetchTooLarge, match="inflates"):
            await read_body(response, cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 2 * cap


async def test_raw_bytes_are_counted_while_streaming() -> None:
    response = _response(b"x" * (3 * MB))

    with pytest.raises(FetchTooLarge):
        await read_body(response, MB)


async def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    async def never() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read")
        yield b""  # pragma: no cover

    response = httpx.Response(200, headers={"Content-Length": str(50 * MB)}, content=never())

    with pytest.raises(FetchTooLarge, match="declares"):
        await read_body(response, MB)


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, gzip"])
async def test_encodings_that_cannot_be_bounded_are_refused(encoding: str) -> None:
    with pytest.raises(FetchFailed, match="content-encoding"):
        await read_body(_response(b"\x00" * 100, ("Content-Encoding", encoding)), MB)


async def test_a_broken_gzip_body_is_fetch_failed() -> None:
    broken = b"\x1f\x8b\x08\x00" + b"\xff" * 100

    with pytest.raises(FetchFailed, match="broken"):
        await read_body(_response(broken, ("Content-Encoding", "gzip")), MB)


@pytest.mark.parametrize(
    "body",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(200),
        b"\x7fELF\x02\x01\x01" + bytes(range(256)),
        bytes(range(1, 32)) * 20,  # control bytes without a NUL
    ],
)
def test_binary_data_is_told_from_text(body: bytes) -> None:
    assert looks_binary(body)


@pytest.mark.parametrize(
    "body",
    [
        ARTICLE,
        "ランサムウェア攻撃、取引先情報が流出".encode("cp932"),
        "ランサムウェア攻撃".encode("iso2022_jp"),  # escape sequences are text
        codecs.BOM_UTF16_LE + "<html>text</html>".encode("utf-16-le"),
        b"",
    ],
)
def test_text_in_any_encoding_is_not_binary(body: bytes) -> None:
    assert not looks_binary(body)
