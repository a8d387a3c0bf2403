"""The digest fields beside the bullets: recommendations and other notes."""

from __future__ import annotations

from app.services.summarize.base import SummaryInput
from app.services.summarize.notes import is_recommendation, other_notes
from app.services.summarize.offline import summarize_offline
from tests.support.paths import FIXTURES
from tests.unit.summarize.test_offline import EN_ARTICLE, JA_ARTICLE, NO_ADVICE

SUMMARIZE_FIXTURES = FIXTURES / "summarize"


def _fixture(name: str) -> str:
    """The article text of a fixture, without its header."""
    return (SUMMARIZE_FIXTURES / name).read_text(encoding="utf-8").split("\n\n", 1)[1]


def test_recommendations_are_found_in_english() -> None:
    result = summarize_offline(SummaryInput(text=EN_ARTICLE))
    assert result.recommendations == [
        "Administrators should upgrade FortiOS to version 7.4.3 or later and review VPN logs for "
        "unusual logins.",
        "Fortinet also recommends disabling the SSL VPN entirely if it cannot be patched "
        "immediately.",
    ]


def test_recommendations_are_found_in_japanese() -> None:
    result = summarize_offline(SummaryInput(text=JA_ARTICLE))
    assert result.recommendations == [
        "JPCERT/CCは、同様のVPN機器を利用している組織に対し、修正プログラムを速やかに適用するよう"
        "呼びかけている。",
        "不審な通信がないかログを確認する必要があります。",
    ]


def test_no_recommendations_when_the_article_gives_no_advice() -> None:
    result = summarize_offline(SummaryInput(text=NO_ADVICE))
    assert result.recommendations == []


def test_a_quoted_ransom_note_is_not_a_recommendation() -> None:
    text = "攻撃者は「データを公開されたくなければ連絡してください。」とのメッセージを残していた。"
    assert summarize_offline(SummaryInput(text=text)).recommendations == []


def test_imperative_advice_and_list_items_count_as_recommendations() -> None:
    text = (
        "Microsoft fixed the Exchange flaw in its November update.\n\n"
        "- Apply the November cumulative update to every Exchange server\n"
        "- Disable legacy authentication for remote PowerShell\n"
        "To mitigate the risk, block outbound SMB traffic at the perimeter."
    )
    result = summarize_offline(SummaryInput(text=text))
    assert result.recommendations == [
        "Apply the November cumulative update to every Exchange server",
        "Disable legacy authentication for remote PowerShell",
        "To mitigate the risk, block outbound SMB traffic at the perimeter.",
    ]


def test_at_most_five_recommendations() -> None:
    text = " ".join(f"Users should patch system number {i} before Friday." for i in range(9))
    assert len(summarize_offline(SummaryInput(text=text)).recommendations) == 5


def test_attribution_sentences_go_to_other_unless_already_a_bullet() -> None:
    result = summarize_offline(SummaryInput(text=EN_ARTICLE))
    attribution = [
        "Northwave attributed the intrusion with moderate confidence to a cluster it tracks as "
        "UNC4841, which has previously targeted telecom and government networks in Europe and "
        "Asia.",
        "The cluster is also known as Storm-1849 in Microsoft's naming scheme.",
    ]
    for sentence in attribution:
        assert (sentence in result.other) != (sentence in result.bullets), sentence
    assert any(s in result.other for s in attribution)
    assert len(result.other) <= 3
    assert not set(result.other) & set(result.bullets)


def test_japanese_attribution_is_a_bullet_or_an_other_note() -> None:
    result = summarize_offline(SummaryInput(text=JA_ARTICLE))
    sentence = (
        "調査を担当したセキュリティ企業は、今回の攻撃の手口が過去に国家の支援を受けた攻撃グループが"
        "使った手口と一致していると指摘した。"
    )
    assert (sentence in result.other) != (sentence in result.bullets)


def test_japanese_attribution_goes_to_other_when_the_bullets_are_full() -> None:
    text = JA_ARTICLE + "\n\n" + _fixture("japan_ja_hospital.txt")
    result = summarize_offline(SummaryInput(text=text, source_lang="ja"))
    assert any("国家の支援を受けた攻撃グループ" in s for s in result.other + result.bullets)
    assert not set(result.other) & set(result.bullets)


def test_a_cve_tracked_as_an_id_is_not_attribution() -> None:
    text = (
        "Ivanti fixed a flaw in Connect Secure gateways on Tuesday. It is tracked as "
        "CVE-2025-0282 and rated 9.0. Exploitation began in mid-December. Two other bugs "
        "were fixed in the same release."
    )
    assert summarize_offline(SummaryInput(text=text)).other == []


def test_no_other_notes_without_attribution() -> None:
    text = (
        "A bug in the firmware of a popular home router lets anyone on the local network reboot "
        "it. The vendor fixed the bug in version 2.4 of the firmware. No attacks have been seen."
    )
    assert summarize_offline(SummaryInput(text=text)).other == []


def test_advice_in_a_japanese_breach_notice_is_a_recommendation() -> None:
    result = summarize_offline(SummaryInput(text=_fixture("crime_ja_arrest.txt")))
    assert result.recommendations == [
        "警視庁は、同じパスワードを複数のサイトで使い回さないよう呼びかけている。"
    ]


def test_asking_staff_to_use_mfa_is_a_recommendation_and_a_ransom_demand_is_not() -> None:
    assert is_recommendation("大学は全教職員に多要素認証の利用を求めている。")
    assert is_recommendation("同社は利用者に対し、パスワードを変更するよう求めた。")
    assert not is_recommendation("犯行グループは身代金として500万ドルを求めている。")


def test_what_the_attackers_did_is_not_advice() -> None:
    for sentence in (
        "The attackers disabled endpoint protection on several hosts.",
        "The malware must run with administrator rights to install its driver.",
        "攻撃者はセキュリティソフトを無効化し、最新のペイロードに更新した。",
        "侵入されたサーバーではリモートデスクトップが有効になっていた。",
    ):
        assert not is_recommendation(sentence), sentence


def test_a_victim_count_is_an_other_note() -> None:
    sentences = [
        "The flaw was fixed in May.",
        "The provider said it has notified about 1.2 million affected customers.",
        "The company did not say how many customers were affected.",
    ]
    assert other_notes(sentences, taken=set()) == [sentences[1]]


def test_other_notes_skip_sentences_already_taken_and_keep_document_order() -> None:
    sentences = [
        "The intrusion was attributed to APT29 by two vendors.",
        "Researchers linked the loader to the FIN7 group.",
        "The gang behind the attack is tracked as Storm-0558.",
        "The Lazarus group also targeted crypto exchanges.",
    ]
    notes = other_notes(sentences, taken={sentences[0]})
    assert notes == sentences[1:4]


def test_japanese_notices_ask_and_reports_advise_in_their_own_words() -> None:
    breach = summarize_offline(SummaryInput(text=_fixture("japan_ja_breach.txt")))
    assert breach.recommendations == [
        "顧客の皆様には、当社を装った不審なメールに注意するようお願いしている。"
    ]
    report = summarize_offline(SummaryInput(text=_fixture("report_ja_whitepaper.txt")))
    assert report.recommendations == [
        "同社は、多要素認証の導入と従業員への継続的な教育が有効な対策であるとしている。"
    ]
