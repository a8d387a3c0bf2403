"""Sentence splitting for English and Japanese article text."""

from __future__ import annotations

from app.services.summarize.sentences import segment


def _sentences(text: str) -> list[str]:
    """The sentences `segment` finds, as text: its headings are not sentences."""
    return [unit.text for unit in segment(text) if not unit.heading]


def test_abbreviations_do_not_end_a_sentence() -> None:
    text = (
        "Agencies in the U.S. and Japan, e.g. CISA and NISC, issued alerts on Jan. 5 about "
        "the flaw. Dr. Ito of Acme Inc. and Mr. Sato of Tanaka Corp. disagreed, i.e. they "
        "saw no exploitation vs. the earlier claims. Advisory No. 7 followed."
    )
    assert _sentences(text) == [
        "Agencies in the U.S. and Japan, e.g. CISA and NISC, issued alerts on Jan. 5 about "
        "the flaw.",
        "Dr. Ito of Acme Inc. and Mr. Sato of Tanaka Corp. disagreed, i.e. they saw no "
        "exploitation vs. the earlier claims.",
        "Advisory No. 7 followed.",
    ]


def test_decimals_versions_and_file_names_stay_inside_their_sentence() -> None:
    text = (
        "The loader svchost.exe weighs 3.5 MB and targets v1.2.3 of the agent. "
        "Version 10.0.19045 is not affected."
    )
    assert _sentences(text) == [
        "The loader svchost.exe weighs 3.5 MB and targets v1.2.3 of the agent.",
        "Version 10.0.19045 is not affected.",
    ]


def test_ips_domains_and_defanged_iocs_stay_inside_their_sentence() -> None:
    text = (
        "It beacons to 45.137.21.9 and to evil.com over HTTPS. "
        "A second stage comes from hxxps://cdn.evil[.]com/a.bin and 185.220.101[.]4 on port 443. "
        "Blocking them helps."
    )
    assert _sentences(text) == [
        "It beacons to 45.137.21.9 and to evil.com over HTTPS.",
        "A second stage comes from hxxps://cdn.evil[.]com/a.bin and 185.220.101[.]4 on port 443.",
        "Blocking them helps.",
    ]


def test_a_sentence_that_ends_with_a_domain_or_version_still_ends() -> None:
    text = "The payload was hosted on evil[.]com. Users should update to 7.4.3. It fixes the bug."
    assert _sentences(text) == [
        "The payload was hosted on evil[.]com.",
        "Users should update to 7.4.3.",
        "It fixes the bug.",
    ]


def test_question_and_exclamation_marks_end_sentences_with_their_closing_quotes() -> None:
    text = 'Was the data stolen? The firm said "Yes!" Then it went quiet. "Patch now." She left.'
    assert _sentences(text) == [
        "Was the data stolen?",
        'The firm said "Yes!"',
        "Then it went quiet.",
        '"Patch now."',
        "She left.",
    ]


def test_yahoo_exclamation_mark_is_part_of_the_name() -> None:
    assert _sentences("Yahoo! Japan warned users. It reset passwords.") == [
        "Yahoo! Japan warned users.",
        "It reset passwords.",
    ]


def test_lower_case_after_a_full_stop_does_not_start_a_sentence() -> None:
    assert _sentences("The file is named a.b. and it runs at boot.") == [
        "The file is named a.b. and it runs at boot."
    ]


def test_blank_lines_end_a_sentence_even_without_punctuation() -> None:
    text = (
        "The campaign has run since March and hit at least forty organisations in Europe\n\n"
        "Most victims were hospitals."
    )
    assert _sentences(text) == [
        "The campaign has run since March and hit at least forty organisations in Europe",
        "Most victims were hospitals.",
    ]


def test_list_lines_are_sentences_of_their_own_without_the_marker() -> None:
    text = (
        "The malware does the following:\n"
        "- collects the host name and user name\n"
        "* downloads a second stage from its server\n"
        "1. deletes itself after the first run\n"
        "• adds a scheduled task for persistence"
    )
    assert _sentences(text) == [
        "The malware does the following:",
        "collects the host name and user name",
        "downloads a second stage from its server",
        "deletes itself after the first run",
        "adds a scheduled task for persistence",
    ]


def test_headings_are_left_out_but_long_unpunctuated_lines_are_kept() -> None:
    text = (
        "Key findings\n"
        "The group used a new loader written in Rust to deploy Cobalt Strike on domain hosts\n"
        "Technical analysis\n"
        "The loader decrypts its payload with a hard-coded key."
    )
    assert _sentences(text) == [
        "The group used a new loader written in Rust to deploy Cobalt Strike on domain hosts",
        "The loader decrypts its payload with a hard-coded key.",
    ]


def test_segment_marks_headings_list_items_and_paragraphs() -> None:
    units = segment("Overview\n\nThe bug is critical. It is exploited.\n\n- Patch now\n")
    assert [(u.text, u.heading, u.list_item, u.paragraph) for u in units] == [
        ("Overview", True, False, 0),
        ("The bug is critical.", False, False, 1),
        ("It is exploited.", False, False, 1),
        ("Patch now", False, True, 2),
    ]
    assert [u.index for u in units] == [0, 1, 2, 3]
    assert units[3].fragment


def test_hard_wrapped_lines_are_joined_into_one_sentence() -> None:
    text = "The attackers sent spear-phishing emails\nwith a malicious OneNote attachment to staff."
    assert _sentences(text) == [
        "The attackers sent spear-phishing emails with a malicious OneNote attachment to staff."
    ]


def test_glued_sentences_split_before_a_common_opener() -> None:
    assert _sentences("The bot was first seen in EwDoor.The initial version had no C2.") == [
        "The bot was first seen in EwDoor.",
        "The initial version had no C2.",
    ]


def test_japanese_splits_on_full_stops_and_marks() -> None:
    text = (
        "攻撃者はVPN機器の脆弱性を悪用した。被害は拡大している！本当に安全なのか？対策が急がれる。"
    )
    assert _sentences(text) == [
        "攻撃者はVPN機器の脆弱性を悪用した。",
        "被害は拡大している！",
        "本当に安全なのか？",
        "対策が急がれる。",
    ]


def test_japanese_quotes_keep_their_inner_full_stops() -> None:
    text = "犯人は「支払いを急いでください。期限は明日です。」と書いた。警察が捜査している。"
    assert _sentences(text) == [
        "犯人は「支払いを急いでください。期限は明日です。」と書いた。",
        "警察が捜査している。",
    ]


def test_an_unmatched_japanese_quote_does_not_swallow_the_text() -> None:
    assert _sentences("同社は「調査中と述べた。続報を待ちたい。") == [
        "同社は「調査中と述べた。",
        "続報を待ちたい。",
    ]


def test_full_width_period_ends_a_sentence_but_not_a_number() -> None:
    text = "対象はバージョン２．５以前である．修正版が公開された．"
    assert _sentences(text) == ["対象はバージョン２．５以前である．", "修正版が公開された．"]


def test_mixed_japanese_and_english_keeps_ascii_dots_inside() -> None:
    text = "攻撃にはsvchost.exeとevil[.]comが使われた。詳細はv2.1の報告書にある。"
    assert _sentences(text) == [
        "攻撃にはsvchost.exeとevil[.]comが使われた。",
        "詳細はv2.1の報告書にある。",
    ]


def test_windows_line_endings_and_empty_text() -> None:
    assert _sentences("") == []
    assert _sentences("  \n\n ") == []
    assert _sentences("First one here.\r\n\r\nSecond one here.") == [
        "First one here.",
        "Second one here.",
    ]


def test_glued_sentences_from_pdf_text_split_before_more_openers() -> None:
    text = (
        "The botnet had 5.7k bots in the US.So far it has had three versions.Currently it is idle."
    )
    assert _sentences(text) == [
        "The botnet had 5.7k bots in the US.So far it has had three versions.",
        "Currently it is idle.",
    ]
    assert _sentences("It loads System.Threading and Foo.Bar at start.") == [
        "It loads System.Threading and Foo.Bar at start."
    ]


def test_japanese_lines_without_full_stops_are_units_of_their_own() -> None:
    text = (
        "被害の概要\n顧客情報約2万件が流出した可能性\n\n"
        "同社は調査を進めている。今後の対応は未定だ。"
    )
    units = segment(text)
    assert [u.text for u in units] == [
        "被害の概要",
        "顧客情報約2万件が流出した可能性",
        "同社は調査を進めている。",
        "今後の対応は未定だ。",
    ]
    assert units[0].heading
    assert _sentences(text)[-2:] == ["同社は調査を進めている。", "今後の対応は未定だ。"]
