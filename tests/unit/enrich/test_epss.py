"""FIRST's EPSS file is read as a bounded stream, strictly, or refused whole."""

from __future__ import annotations

import gzip
from datetime import date

import pytest

from app.services.enrich import CatalogRefused, EpssRecord, parse_epss
from tests.support.paths import FIXTURES

EPSS_FILE = FIXTURES / "enrich" / "epss_scores-2025-06-01.csv.gz"
TRUNCATED = FIXTURES / "enrich" / "epss_scores-2025-06-01-truncated.csv.gz"
LIMIT = 1024 * 1024
HEAD = "#model_version:v2025.03.14,score_date:2025-06-01T12:55:00Z\ncve,epss,percentile\n"


def gz(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def refusal(body: bytes, *, max_bytes: int = LIMIT) -> str:
    with pytest.raises(CatalogRefused) as refused:
        parse_epss(body, max_bytes=max_bytes)
    assert refused.value.source == "epss"
    return str(refused.value)


def test_reads_every_score_with_the_model_version_and_day() -> None:
    parsed = parse_epss(EPSS_FILE.read_bytes(), max_bytes=LIMIT)

    assert parsed.model_version == "v2025.03.14"
    assert parsed.score_date == date(2025, 6, 1)
    assert len(parsed.records) == 8
    assert parsed.records[1] == EpssRecord("CVE-2021-44228", 0.94358, 0.99992)


def test_a_plain_csv_is_read_as_the_gzip_is() -> None:
    # A server that sends the file with Content-Encoding: gzip: the fetch inflates it.
    plain = gzip.decompress(EPSS_FILE.read_bytes())

    assert parse_epss(plain, max_bytes=LIMIT) == parse_epss(EPSS_FILE.read_bytes(), max_bytes=LIMIT)


def test_gzip_members_in_a_row_are_read_as_one_file() -> None:
    body = gz(HEAD + "CVE-2024-0001,0.1,0.2\n") + gz("CVE-2024-0002,0.3,0.4\n")

    assert [r.cve_id for r in parse_epss(body, max_bytes=LIMIT).records] == [
        "CVE-2024-0001",
        "CVE-2024-0002",
    ]


def test_windows_line_ends_and_lower_case_ids_are_read() -> None:
    body = gz(HEAD.replace("\n", "\r\n") + "cve-2024-0001,0.1,0.2\r\n")

    assert parse_epss(body, max_bytes=LIMIT).records == (EpssRecord("CVE-2024-0001", 0.1, 0.2),)


def test_a_truncated_download_is_refused_whole() -> None:
    assert "truncated" in refusal(TRUNCATED.read_bytes())


def test_a_gzip_cut_just_before_its_checksum_is_refused() -> None:
    # Every line inflates; only the missing trailer tells.
    assert "truncated" in refusal(EPSS_FILE.read_bytes()[:-8])


def test_corrupt_gzip_data_is_refused() -> None:
    body = bytearray(EPSS_FILE.read_bytes())
    body[40:60] = bytes(20)

    assert "the gzip data is corrupt" in refusal(bytes(body))


def test_bytes_after_the_gzip_data_are_refused() -> None:
    assert "bytes after the end" in refusal(EPSS_FILE.read_bytes() + b"<html>")


def test_a_last_line_without_its_newline_is_refused() -> None:
    # A plain file cut in the middle of a number still reads as a number.
    assert "line 4 does not end with a newline" in refusal(
        (HEAD + "CVE-2024-0001,0.1,0.2\nCVE-2024-0002,0.3,0.4").encode()
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("CVE-2024-0002,0.3", "line 4 is not a CVE id, a score and a percentile"),
        ("CVE-2024-0002,0.3,0.4,0.5", "line 4 is not a CVE id, a score and a percentile"),
        ("CVE-24-0002,0.3,0.4", "line 4 is not a CVE id, a score and a percentile"),
        ("", "line 4 is not a CVE id, a score and a percentile"),
        ("CVE-2024-0002,nan,0.4", "line 4: epss 'nan' is not a number in [0, 1]"),
        ("CVE-2024-0002,inf,0.4", "line 4: epss 'inf' is not a number in [0, 1]"),
        ("CVE-2024-0002,1.5,0.4", "line 4: epss '1.5' is not a number in [0, 1]"),
        ("CVE-2024-0002,1_0,0.4", "line 4: epss '1_0' is not a number in [0, 1]"),
        ("CVE-2024-0002,0.3,-0.1", "line 4: percentile '-0.1' is not a number in [0, 1]"),
        ("CVE-2024-0002,0.3,", "line 4: percentile '' is not a number in [0, 1]"),
        ("CVE-2024-0002,0.3,０.4", "line 4 is not ASCII text"),  # full-width digit
        ("CVE-2024-0001,0.3,0.4", "line 4: CVE-2024-0001 is listed twice"),
    ],
)
def test_one_bad_row_refuses_the_whole_file(row: str, message: str) -> None:
    body = gz(HEAD + "CVE-2024-0001,0.1,0.2\n" + row + "\nCVE-2024-0003,0.5,0.6\n")

    assert message in refusal(body)


def test_scientific_notation_and_the_bounds_themselves_are_numbers() -> None:
    body = gz(HEAD + "CVE-2024-0001,4e-05,0\nCVE-2024-0002,1.0,1\n")

    assert [(r.score, r.percentile) for r in parse_epss(body, max_bytes=LIMIT).records] == [
        (4e-05, 0.0),
        (1.0, 1.0),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "it is empty"),
        ("cve,epss,percentile\nCVE-2024-0001,0.1,0.2\n", "line 1 is not the #model_version"),
        ("#model_version:v2025.03.14\ncve,epss,percentile\n", "does not name a model_version"),
        ("#score_date:2025-06-01\ncve,epss,percentile\n", "does not name a model_version"),
        ("#model_version:v1,score_date:June\ncve,epss,percentile\n", "does not name a"),
        ("#model_version:v1,score_date:2025-06-01\n", "line 2 is not the header"),
        ("#model_version:v1,score_date:2025-06-01\ncve,score\n", "line 2 is not the header"),
        (HEAD, "it has no scores"),
    ],
)
def test_a_file_without_its_comment_header_or_rows_is_refused(text: str, message: str) -> None:
    assert message in refusal(gz(text))


def test_a_gzip_bomb_stops_at_the_limit() -> None:
    # 64 MiB of rows in about 64 KB: nothing is inflated past the limit, nor parsed.
    line = b"CVE-2024-0001,0.1,0.2\n"
    bomb = gzip.compress(HEAD.encode() + line * (64 * 1024 * 1024 // len(line)), mtime=0)

    assert "inflates to more than 524288 bytes" in refusal(bomb, max_bytes=512 * 1024)


def test_a_line_without_end_is_refused_before_it_grows() -> None:
    # Megabytes of digits and no newline: refused at the first piece, not buffered whole.
    body = gz(HEAD + "CVE-2024-0001,0." + "0" * 8 * 1024 * 1024)

    assert "line 3 is longer than 4096 bytes" in refusal(body)


def test_a_plain_file_over_the_limit_is_refused() -> None:
    body = (HEAD + "CVE-2024-0001,0.1,0.2\n").encode()

    assert "larger than 10 bytes" in refusal(body, max_bytes=10)


def test_a_file_of_many_steps_is_read_in_full() -> None:
    # A third of the real file (100,000 rows, 3 MB of CSV): inflated and split in steps.
    rows = "".join(
        f"CVE-{2000 + n % 26}-{n:07d},0.{n:05d},0.{n % 9973:05d}\n" for n in range(100_000)
    )
    body = gzip.compress((HEAD + rows).encode(), compresslevel=1, mtime=0)

    parsed = parse_epss(body, max_bytes=64 * 1024 * 1024)

    assert len(parsed.records) == 100_000
    assert parsed.records[-1] == EpssRecord("CVE-2003-0099999", 0.99999, 0.00269)
