"""The CSV of a day: RFC 4180, read back by Python's csv, formulas neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from app.services.exports.render import ExportOptions
from app.services.exports.table import BOM, COLUMNS, day_csv, neutralise, rows
from app.services.reports.sections import Section
from tests.support.exports import DAY, HOSTILE_TITLE, ioc, make_entry

OPTIONS = ExportOptions(producer="secdigest", tlp="clear")


def _read(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def test_the_csv_reads_back_in_pythons_csv_with_the_same_rows() -> None:
    entries = [
        make_entry(
            ioc("ipv4", "45.137.21.9"),
            ioc(
                "url",
                'https://update-check.top/a,b?q="x"',
                defanged='hxxps://update-check[.]top/a,b?q="x"',
            ),
            title=HOSTILE_TITLE,
        ),
        make_entry(
            ioc("cve", "CVE-2024-3400", defanged="CVE-2024-3400"),
            item_id=2,
            title="物流大手にランサムウェア攻撃、取引先情報が流出",
            url=None,
            section=Section.JAPAN_INCIDENTS,
        ),
    ]

    body = day_csv(entries, day=DAY, options=OPTIONS)

    read = _read(body)
    assert read[0] == list(COLUMNS)
    assert read[1:] == rows(entries)
    assert read[1] == [
        "2024-12-06",
        "ipv4",
        "45.137.21.9",
        "45[.]137[.]21[.]9",
        "",
        "'" + HOSTILE_TITLE,
        "https://news.example.com/ember-lynx",
        "daily_news",
    ]
    assert read[2][2:4] == [
        'https://update-check.top/a,b?q="x"',
        'hxxps://update-check[.]top/a,b?q="x"',
    ]
    assert read[3] == [
        "2024-12-06",
        "cve",
        "CVE-2024-3400",
        "CVE-2024-3400",
        "",
        "物流大手にランサムウェア攻撃、取引先情報が流出",
        "",
        "japan_incidents",
    ]


def test_lines_end_in_crlf_and_only_cells_that_need_it_are_quoted() -> None:
    body = day_csv(
        [make_entry(ioc("ipv4", "45.137.21.9"), title='A "quoted", title')],
        day=DAY,
        options=OPTIONS,
    )

    assert body.split(b"\r\n") == [
        b"date,type,value,defanged,flags,title,source_url,section",
        b'2024-12-06,ipv4,45.137.21.9,45[.]137[.]21[.]9,,"A ""quoted"", title",'
        b"https://news.example.com/ember-lynx,daily_news",
        b"",
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(start: str) -> None:
    title = f"{start}1+cmd|' /C calc'!A0"

    body = day_csv([make_entry(ioc("ipv4", "45.137.21.9"), title=title)], day=DAY, options=OPTIONS)

    assert _read(body)[1][5] == "'" + title


def test_cells_that_only_contain_those_characters_later_are_left_alone() -> None:
    assert neutralise("a=b+c-d@e") == "a=b+c-d@e"
    assert neutralise("-1 day exploit") == "'-1 day exploit"


def test_a_bom_comes_first_only_when_asked() -> None:
    entries = [make_entry(ioc("ipv4", "45.137.21.9"))]
    with_bom = ExportOptions(producer="secdigest", tlp="clear", bom=True)

    plain = day_csv(entries, day=DAY, options=OPTIONS)
    marked = day_csv(entries, day=DAY, options=with_bom)

    assert not plain.startswith(BOM)
    assert marked == BOM + plain
    assert list(csv.reader(io.StringIO(marked.decode("utf-8-sig"), newline=""))) == _read(plain)


def test_flagged_indicators_are_rows_with_their_flags_only_when_asked() -> None:
    entries = [
        make_entry(ioc("ipv4", "45.137.21.9"), ioc("ipv4", "127.0.0.1", "loopback", "reserved"))
    ]
    flagged = ExportOptions(producer="secdigest", tlp="clear", include_flagged=True)

    plain = _read(day_csv(entries, day=DAY, options=OPTIONS))
    kept = _read(day_csv(entries, day=DAY, options=flagged))

    assert [row[2] for row in plain[1:]] == ["45.137.21.9"]
    assert [(row[2], row[4]) for row in kept[1:]] == [
        ("45.137.21.9", ""),
        ("127.0.0.1", "loopback;reserved"),
    ]


def test_unrecognised_lines_are_not_rows_and_an_empty_day_is_the_header_alone() -> None:
    entries = [make_entry(ioc("other", "see the vendor's advisory"))]

    assert day_csv(entries, day=DAY, options=OPTIONS) == (",".join(COLUMNS) + "\r\n").encode()
    assert day_csv([], day=DAY, options=OPTIONS) == (",".join(COLUMNS) + "\r\n").encode()
