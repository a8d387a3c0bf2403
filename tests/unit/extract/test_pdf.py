"""PDF threat reports: the text layer re-flowed, metadata, and broken files."""

from __future__ import annotations

from datetime import timedelta

from app.services.extract.pdf import extract_pdf, looks_like_pdf
from tests.support.pdf import make_pdf


def test_text_is_reflowed_into_paragraphs_with_headings_apart() -> None:
    pdf = make_pdf(
        [
            [
                "Threat report",
                "The loader calls hxxps://evil[.]com/gate and then it",
                "waits for instructions from its operator.",
                "",
                "Block 45.137.21[.]9 at the firewall.",
            ],
            ["Second page."],
        ]
    )
    article = extract_pdf(pdf)
    assert article.text.split("\n\n") == [
        "Threat report",
        "The loader calls hxxps://evil[.]com/gate and then it waits for instructions from its "
        "operator.",
        "Block 45.137.21[.]9 at the firewall.",
        "Second page.",
    ]
    assert article.lang == "en"


def test_title_and_creation_date_come_from_the_metadata() -> None:
    pdf = make_pdf(
        [["Body text of the report."]],
        title="Q4 threat landscape",
        created="D:20241205093000+09'00'",
    )
    article = extract_pdf(pdf)
    assert article.title == "Q4 threat landscape"
    assert article.published is not None
    assert (article.published.year, article.published.month, article.published.day) == (2024, 12, 5)
    assert article.published.utcoffset() == timedelta(hours=9)


def test_without_a_title_the_first_short_paragraph_is_the_title() -> None:
    article = extract_pdf(make_pdf([["Operation Nightfall", "", "A long paragraph follows."]]))
    assert article.title == "Operation Nightfall"


def test_broken_and_truncated_files_give_no_text_instead_of_an_error() -> None:
    pdf = make_pdf([["Some text."]])
    assert extract_pdf(b"%PDF-1.4 not really a pdf").text == ""
    assert extract_pdf(pdf[: len(pdf) // 3]).text == ""


def test_pdfs_are_recognised_by_type_or_by_their_magic_bytes() -> None:
    assert looks_like_pdf(b"anything", "application/pdf; qs=0.5")
    assert looks_like_pdf(b"%PDF-1.7\n...", "application/octet-stream")
    assert not looks_like_pdf(b"<html>", "text/html")
