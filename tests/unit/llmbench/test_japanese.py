"""The Japanese-output helpers: the script share and the ids kept verbatim."""

from __future__ import annotations

import pytest

from app.services.llmbench.japanese import (
    check_ids,
    check_names,
    ja_share,
    main_names,
    script_counts,
)


def test_a_japanese_sentence_with_names_is_mostly_japanese() -> None:
    share = ja_share("Citrix は NetScaler の重大な脆弱性を修正する更新を公開した。")
    assert share is not None
    assert share > 0.85  # two Latin words among 20 kana and kanji


def test_english_is_zero_and_ids_urls_numbers_do_not_count() -> None:
    assert ja_share("Citrix fixed a critical NetScaler flaw.") == 0.0
    assert script_counts("CVE-2024-3400 hxxps://evil[.]com/a 45.1.2.3 T1059.001 2024") == (0, 0)
    assert ja_share("1234 5.6") is None


def test_digits_next_to_kanji_keep_the_kanji() -> None:
    assert script_counts("2024年3月") == (2, 2)
    assert script_counts("CVE-２０２４-３４００ を悪用") == (3, 3)  # the mangled id is removed too


def test_half_width_katakana_and_the_long_mark_are_japanese() -> None:
    assert ja_share("ﾗﾝｻﾑｳｪｱ ランサムウェアー") == 1.0


def test_an_id_written_as_in_the_source_is_verbatim() -> None:
    found = check_ids(
        "Attackers exploit CVE-2024-3400 (T1190) and T1059.001.",
        "攻撃者は CVE-2024-3400 を悪用し T1059.001 を使った。",
    )
    assert found.ids == ("CVE-2024-3400", "T1190", "T1059.001")
    assert found.verbatim == ("CVE-2024-3400", "T1059.001")
    assert found.mangled == ()
    assert found.share == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "output",
    [
        "CVE-２０２４-３４００ を悪用",  # full-width digits
        "cve-2024-3400 を悪用",  # case changed
        "CVE－2024－3400 を悪用",  # full-width hyphen
        "CVE‐2024‐3400 を悪用",  # Unicode hyphen
    ],
)
def test_a_mangled_id_is_counted_as_mangled(output: str) -> None:
    found = check_ids("Patch CVE-2024-3400 now.", output)
    assert found.verbatim == ()
    assert found.mangled == ("CVE-2024-3400",)
    assert found.share == 0.0


def test_a_longer_id_is_not_a_mention_of_a_shorter_one() -> None:
    found = check_ids("It uses T1059 and CVE-2024-340.", "T1059.001 と CVE-2024-3400")
    assert found.verbatim == ()
    assert found.mangled == ()


def test_the_source_spelling_counts_as_verbatim() -> None:
    found = check_ids("Patch cve-2024-3400 now.", "cve-2024-3400 を修正")
    assert found.verbatim == ("CVE-2024-3400",)


def test_a_source_without_ids_has_no_share() -> None:
    assert check_ids("No ids here.", "なし").share is None


SOURCE = (
    "Ivanti warned that attackers exploit Connect Secure appliances. The Ivanti flaw was used "
    "by APT29, and APT29 also targeted NetScaler gateways; NetScaler admins should patch. "
    "The VPN and the SSL VPN were hit. The attack is ongoing."
)


def test_the_main_names_are_capitalised_words_never_written_in_lower_case() -> None:
    # "The" is also "the"; VPN and SSL are acronyms; each name is written at least twice.
    assert main_names(SOURCE) == ("APT29", "Ivanti", "NetScaler")


def test_a_transliterated_name_is_not_kept_verbatim() -> None:
    found = check_names(SOURCE, "APT29がIvantiの脆弱性を悪用し、ネットスケーラーも標的にした。")

    assert found.names == ("APT29", "Ivanti", "NetScaler")
    assert found.verbatim == ("APT29", "Ivanti")
    assert found.share == pytest.approx(2 / 3)


def test_a_source_without_names_has_no_share() -> None:
    assert (
        check_names("the attack is ongoing and nothing is named here", "攻撃は続いている").share
        is None
    )
