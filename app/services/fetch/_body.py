"""A response body within bounds: raw bytes counted, decompressed here with a ceiling.

httpx would inflate gzip for us, but only chunk by chunk without a limit on what one
chunk inflates to: a few kilobytes of a gzip bomb become hundreds of megabytes before
the caller can count them. So the raw stream is read and inflated with zlib's
max_length, and nothing past the cap (plus one step) is ever produced.
"""

from __future__ import annotations

import codecs
import logging
import zlib

import httpx

from app.errors import FetchFailed, FetchTooLarge

log = logging.getLogger("secdigest.fetch")

# Only what can be inflated with a bound is advertised; brotli and zstd are not (their
# Python bindings have no output limit in the versions we could rely on).
ACCEPT_ENCODING = "gzip, deflate"
_GZIP = 16 + zlib.MAX_WBITS
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS
# Inflate this much at most per call: memory stays near the cap, not twice it.
_STEP = 256 * 1024


class _Inflater:
    """gzip or deflate, inflated incrementally and never much past the limit it is given."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in {"gzip", "x-gzip"}
        self._head = b""  # "deflate" is zlib-wrapped by the RFC, raw by many servers
        self._z: zlib._Decompress | None = zlib.decompressobj(_GZIP) if self._gzip else None

    def feed(self, data: bytes, out: bytearray, limit: int) -> None:
        """Inflate data onto out, stopping as soon as out holds more than limit bytes."""
        # Written straight into the caller's buffer: no second copy of up to `limit` bytes.
        if self._z is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            zlib_header = data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0
            self._z = zlib.decompressobj(_ZLIB if zlib_header else _RAW_DEFLATE)
        while True:
            if self._z.eof:
                # A gzip file may be several members in a row; junk after the end is
                # ignored, as browsers ignore it.
                if not (self._gzip and data.startswith(b"\x1f\x8b")):
                    break
                self._z = zlib.decompressobj(_GZIP)
            step = min(limit - len(out) + 1, _STEP)
            try:
                piece = self._z.decompress(data, step)
            except zlib.error as exc:
                # zlib's "Error -3 while decompressing data: ..." is for us, not the caller.
                encoding = "gzip" if self._gzip else "deflate"
                log.warning("fetch.bad_body encoding=%s error=%s", encoding, exc)
                raise FetchFailed(f"the page's {encoding} compressed body is broken") from exc
            out += piece
            if len(out) > limit:
                break
            if self._z.eof:
                data = self._z.unused_data
                continue
            data = self._z.unconsumed_tail
            # A full step may leave output inside zlib even when all input was taken.
            if not data and len(piece) < step:
                break


def content_encoding(response: httpx.Response) -> str | None:
    """The one encoding to undo (None for identity); FetchFailed for what we cannot bound."""
    value = str(response.headers.get("content-encoding", "")).strip().lower()
    if value in {"", "identity"}:
        return None
    if value in {"gzip", "x-gzip", "deflate"}:
        return value
    raise FetchFailed(f"the site sent content-encoding {value!r}, which is not read")


async def read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body, or FetchTooLarge as soon as raw or inflated bytes pass max_bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchTooLarge(f"the page declares {declared} bytes; the limit is {max_bytes}")
    encoding = content_encoding(response)
    inflater = _Inflater(encoding) if encoding else None
    body = bytearray()
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > max_bytes:
            raise FetchTooLarge(f"the page is larger than {max_bytes} bytes")
        if inflater:
            inflater.feed(chunk, body, max_bytes)
        else:
            body += chunk
        if len(body) > max_bytes:
            raise FetchTooLarge(f"the page inflates to more than {max_bytes} bytes")
    return bytes(body)


# Bytes that occur in text: printable ASCII, every high byte (UTF-8, legacy CJK encodings),
# and the whitespace and escape controls that real pages contain (ESC: ISO-2022-JP).
_TEXT_BYTES = bytes([7, 8, 9, 10, 11, 12, 13, 27, *range(32, 127), *range(128, 256)])
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SNIFF_BYTES = 4096


def looks_binary(body: bytes) -> bool:
    """Whether a body said to be text is binary data (NUL bytes or many control bytes)."""
    head = body[:_SNIFF_BYTES]
    if head.startswith(_WIDE_BOMS):
        return False  # UTF-16 text is full of NUL bytes
    if b"\x00" in head:
        return True
    return len(head.translate(None, _TEXT_BYTES)) * 10 > len(head)
