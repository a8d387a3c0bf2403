"""FIRST's daily EPSS scores (a gzip CSV of every CVE): read as a stream, strictly, pure.

The file: `#model_version:v2025.03.14,score_date:2025-06-01T12:55:00Z`, then the header
`cve,epss,percentile`, then one `CVE-...,0.00043,0.12345` line per CVE (about 300,000).
It is inflated piece by piece with a ceiling, so a gzip bomb stops at `max_bytes` of
CSV, and read line by line; the whole file is refused on the first bad line, a cut
gzip stream, or a last line without its newline.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

from app.services.enrich.catalog import CVE_ID, EPSS, CatalogRefused, cve_id, iso_day

HEADER = "cve,epss,percentile"
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP = 16 + zlib.MAX_WBITS
# Inflate this much at most per call: memory stays near one step beyond the lines read.
_STEP = 1024 * 1024
# A probability as the file writes it (0.00043, 1.0, 4e-05); float() alone would also
# take "nan", "inf" and "1_0".
_NUMBER = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?")
# A whole well-formed row in one match (300k of them: one regex call each, not five);
# a row it does not take is looked at again field by field, to say what is wrong.
_ROW = re.compile(
    rf"({CVE_ID.pattern}),({_NUMBER.pattern}),({_NUMBER.pattern})", re.IGNORECASE | re.ASCII
)
_MAX_VERSION = 64
# A row is about 30 bytes, the comment line about 60: a longer line is not this file (and
# a line is never buffered without end, waiting for a newline that does not come).
_MAX_LINE = 4096


@dataclass(frozen=True, slots=True)
class EpssRecord:
    """One CVE's score and percentile."""

    cve_id: str
    score: float
    percentile: float


@dataclass(frozen=True, slots=True)
class EpssFile:
    """A day of scores: the model's version, the day, every CVE's record."""

    model_version: str
    score_date: date
    records: tuple[EpssRecord, ...]


def _refuse(detail: str) -> CatalogRefused:
    return CatalogRefused(EPSS, detail)


def _inflate(body: bytes, max_bytes: int) -> Iterator[bytes]:
    """The CSV's bytes, piece by piece: gzip (one or more members) inflated with a bound."""
    if not body.startswith(_GZIP_MAGIC):
        # A server may send the CSV itself (or gzip as a Content-Encoding, undone by
        # the fetch): read as it is.
        if len(body) > max_bytes:
            raise _refuse(f"the CSV is larger than {max_bytes} bytes")
        yield body
        return
    produced = 0
    data = body
    while data:
        inflater = zlib.decompressobj(_GZIP)
        while True:
            try:
                piece = inflater.decompress(data, min(_STEP, max_bytes - produced + 1))
            except zlib.error:
                raise _refuse("the gzip data is corrupt") from None
            produced += len(piece)
            if produced > max_bytes:
                raise _refuse(f"the CSV inflates to more than {max_bytes} bytes")
            if piece:
                yield piece
            data = inflater.unconsumed_tail
            if inflater.eof or (not data and not piece):
                break
        if not inflater.eof:
            # zlib checks the CRC and length only at the member's end: a cut download
            # inflates fine up to where it stops, and is caught here.
            raise _refuse("the gzip data ends before its end (truncated)")
        data = inflater.unused_data
        if data and not data.startswith(_GZIP_MAGIC):
            raise _refuse("there are bytes after the end of the gzip data")


def _lines(body: bytes, max_bytes: int) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line; the last must end with a newline."""
    tail = b""
    number = 0
    for piece in _inflate(body, max_bytes):
        lines = (tail + piece).split(b"\n")
        tail = lines.pop()
        if len(tail) > _MAX_LINE:
            raise _refuse(f"line {number + len(lines) + 1} is longer than {_MAX_LINE} bytes")
        for raw in lines:
            number += 1
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError:
                raise _refuse(f"line {number} is not ASCII text") from None
            yield number, text.removesuffix("\r")
    if tail:
        # A file cut in the middle of a line may still end in digits ("0.0"): only the
        # newline tells a complete last line.
        raise _refuse(f"line {number + 1} does not end with a newline (cut short?)")


def _comment(text: str) -> tuple[str, date]:
    if not text.startswith("#"):
        raise _refuse("line 1 is not the #model_version:...,score_date:... comment")
    fields = dict(part.partition(":")[::2] for part in text[1:].split(","))
    version = fields.get("model_version", "").strip()
    day = iso_day(fields.get("score_date", "").strip())
    if not version or len(version) > _MAX_VERSION or day is None:
        raise _refuse("line 1 does not name a model_version and a score_date")
    return version, day


def _probability(value: str, name: str, number: int) -> float:
    result = float(value) if _NUMBER.fullmatch(value) else math.nan
    if not 0.0 <= result <= 1.0:
        raise _refuse(f"line {number}: {name} {value[:20]!r} is not a number in [0, 1]")
    return result


def _refuse_row(text: str, number: int) -> NoReturn:
    """Say what is wrong with a row the fast match did not take."""
    fields = text.split(",")
    if len(fields) != 3 or cve_id(fields[0]) is None:
        raise _refuse(f"line {number} is not a CVE id, a score and a percentile")
    _probability(fields[1].strip(), "epss", number)
    _probability(fields[2].strip(), "percentile", number)
    raise _refuse(f"line {number} has spaces around its fields")


def parse_epss(body: bytes, *, max_bytes: int) -> EpssFile:
    """The scores in `body` (gzip or plain CSV); CatalogRefused unless whole and valid.

    Refused: corrupt or cut gzip, more than `max_bytes` of CSV, a missing comment line or
    header, a row that is not `CVE id,score,percentile`, a score or percentile outside
    [0, 1], a CVE listed twice, and a file without rows (it would empty the table).
    """
    lines = _lines(body, max_bytes)
    first = next(lines, None)
    if first is None:
        raise _refuse("it is empty")
    version, day = _comment(first[1])
    header = next(lines, None)
    if header is None or header[1].strip().lower() != HEADER:
        raise _refuse(f"line 2 is not the header {HEADER}")
    records: list[EpssRecord] = []
    seen: set[str] = set()
    for number, text in lines:
        row = _ROW.fullmatch(text)
        if row is None:
            _refuse_row(text, number)
        cve, score, percentile = row[1].upper(), float(row[2]), float(row[3])
        if score > 1.0 or percentile > 1.0:
            _refuse_row(text, number)
        if cve in seen:
            raise _refuse(f"line {number}: {cve} is listed twice")
        seen.add(cve)
        records.append(EpssRecord(cve, score, percentile))
    if not records:
        raise _refuse("it has no scores")
    return EpssFile(model_version=version, score_date=day, records=tuple(records))
