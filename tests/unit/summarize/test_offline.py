"""The offline (extractive) summary engine."""

from __future__ import annotations

import re

from app.services.iocs import Ioc, IocType
from app.services.reports.sections import Section
from app.services.summarize import offline_bullets
from app.services.summarize.base import SummaryEngine, SummaryInput
from app.services.summarize.offline import OfflineEngine, summarize_offline, trim
from tests.support.paths import FIXTURES

EN_ARTICLE = """\
Hackers exploit FortiOS VPN flaw to breach European telecom

By Jane Doe
November 21, 2024

A financially motivated threat group exploited a critical vulnerability in Fortinet FortiOS \
SSL VPN appliances to break into the network of a large European telecommunications provider, \
security firm Northwave said on Thursday. The flaw, tracked as CVE-2024-21762, allows \
unauthenticated attackers to execute arbitrary code on unpatched devices.

According to the researchers, the intruders first gained access in early October and spent \
roughly six weeks moving laterally before deploying a custom backdoor named SilentLynx on 37 \
servers. The backdoor talked to a command-and-control server at update-check[.]net \
(45.137.21[.]9) over HTTPS.

Northwave attributed the intrusion with moderate confidence to a cluster it tracks as UNC4841, \
which has previously targeted telecom and government networks in Europe and Asia. The cluster \
is also known as Storm-1849 in Microsoft's naming scheme.

Figure 2: Timeline of the intrusion

The attackers disabled endpoint protection on several hosts and used the legitimate tool \
Rclone to exfiltrate about 400 GB of customer records, including names, phone numbers and \
billing addresses. The telecom provider said it has notified about 1.2 million affected \
customers and the national data protection authority.

Fortinet released patches for the vulnerability in February, but more than 150,000 devices \
remained exposed on the internet as of this month, according to scans by the Shadowserver \
Foundation. The company did not say how many of its customers had been compromised.

Administrators should upgrade FortiOS to version 7.4.3 or later and review VPN logs for \
unusual logins. Fortinet also recommends disabling the SSL VPN entirely if it cannot be \
patched immediately.

Share this article
Subscribe to our newsletter for the latest security news.
"""

EN_SECOND_PART = """\
Investigators said the intrusion began with a single VPN account whose password had not been \
changed since 2019. From there the attackers harvested Kerberos tickets and cracked the \
password of a service account that had domain administrator rights.

The SilentLynx backdoor is written in Go and hides its traffic inside ordinary DNS lookups when \
HTTPS is blocked. It can run shell commands, upload and download files, and take screenshots of \
the desktop of the logged-in user.

The group also abused a vulnerable signed driver to switch off the antivirus engine on domain \
controllers, a technique known as bring your own vulnerable driver. Researchers found the same \
driver in two earlier intrusions at a bank in Poland and a retailer in Spain.

Customer data from the breach appeared on a Russian-language cybercrime forum ten days after the \
theft, priced at 15 bitcoin. The seller claimed to hold call records as well, which the provider \
denied in a statement on Friday.

The national regulator opened an investigation into whether the provider met its obligation to \
patch known vulnerabilities within thirty days. Fines under the telecom security law can reach \
two percent of annual turnover for serious failures.

Shares of the provider fell four percent in Frankfurt trading after the disclosure, and two \
rating agencies said they were reviewing the company's outlook in light of possible lawsuits \
from customers whose records were sold.
"""

JA_ARTICLE = """\
国内の部品メーカーにランサムウェア攻撃、生産システムが停止

大阪府に本社を置く部品メーカーの東和精機は11月20日、同社のサーバーがランサムウェアに感染し、\
生産管理システムが停止したと発表した。攻撃者はVPN機器の脆弱性（CVE-2024-21762）を悪用して社内\
ネットワークに侵入したとみられる。

同社によると、暗号化されたサーバーは約40台にのぼり、取引先約1,200社の氏名や連絡先などの情報が\
漏えいした可能性がある。攻撃者は「データを公開されたくなければ連絡してください。期限は72時間です。」\
とのメッセージを残していた。

調査を担当したセキュリティ企業は、今回の攻撃の手口が過去に国家の支援を受けた攻撃グループが\
使った手口と一致していると指摘した。

同社は警察に被害を届け出たうえで、外部の専門家と協力して復旧作業を進めている。生産は11月25日\
までに一部再開する見通しだ。

JPCERT/CCは、同様のVPN機器を利用している組織に対し、修正プログラムを速やかに適用するよう\
呼びかけている。不審な通信がないかログを確認する必要があります。
"""

NO_ADVICE = """\
Police in Spain arrested three suspects accused of running a phishing service used by \
thousands of criminals. The service sold ready-made fake bank pages for 50 euros a month. \
Investigators say it was used to steal more than 300,000 credit card numbers. The attackers \
disabled two-factor prompts by relaying one-time codes in real time. The malware must use \
administrator rights to install its kernel driver.
"""


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_a_news_article_gets_between_three_and_six_bullets() -> None:
    bullets = offline_bullets(EN_ARTICLE)
    assert 3 <= len(bullets) <= 6


def test_bullet_count_grows_with_article_length() -> None:
    brief = offline_bullets(NO_ADVICE)
    article = offline_bullets(EN_ARTICLE)
    longer = offline_bullets(EN_ARTICLE + "\n\n" + EN_SECOND_PART)
    report = offline_bullets(_long_report())
    assert [len(brief), len(article), len(longer), len(report)] == [3, 4, 5, 6]


def test_a_text_with_two_sentences_gives_two_bullets() -> None:
    text = (
        "The Akira ransomware gang claimed an attack on a Finnish university on Monday. "
        "The university confirmed that student records were encrypted."
    )
    assert offline_bullets(text) == [
        "The Akira ransomware gang claimed an attack on a Finnish university on Monday.",
        "The university confirmed that student records were encrypted.",
    ]


def test_empty_text_gives_no_bullets() -> None:
    assert offline_bullets("") == []
    assert offline_bullets("Read more\n\nShare this") == []


def test_bullets_are_sentences_of_the_article_in_document_order() -> None:
    text = EN_ARTICLE + "\n\n" + EN_SECOND_PART
    flat = _flat(text)
    bullets = offline_bullets(text)
    positions = [flat.index(b) for b in bullets]
    assert positions == sorted(positions)


def test_the_lead_sentence_is_a_bullet_and_the_headline_is_not() -> None:
    bullets = offline_bullets(EN_ARTICLE)
    assert bullets[0].startswith("A financially motivated threat group exploited")
    assert not any(b.startswith("Hackers exploit FortiOS") for b in bullets)


def test_near_identical_sentences_give_one_bullet() -> None:
    text = (
        "The LockBit ransomware gang has claimed responsibility for the attack on the port of "
        "Nagoya, which stopped container traffic for two days. "
        "The LockBit ransomware gang claimed responsibility for the attack on the port of Nagoya, "
        "which stopped container traffic for two full days. "
        "Officials said no customs data was stolen during the incident. "
        "Terminal operators restored the system from offline backups on Thursday."
    )
    bullets = offline_bullets(text)
    assert sum("LockBit" in b for b in bullets) == 1
    assert len(bullets) == 3


def test_japanese_near_duplicates_give_one_bullet() -> None:
    text = (
        "名古屋港のコンテナターミナルがランサムウェア攻撃を受け、2日間にわたり搬出入が停止した。"
        "名古屋港のコンテナターミナルがランサムウェアの攻撃を受け、2日間にわたって搬出入が停止した。"
        "当局によると、税関のデータが盗まれた形跡はないという。"
        "ターミナルの運営会社はオフラインのバックアップからシステムを復旧した。"
    )
    bullets = offline_bullets(text)
    assert sum("名古屋港" in b for b in bullets) == 1
    assert len(bullets) == 3


def test_page_furniture_never_becomes_a_bullet() -> None:
    furniture = [
        "Figure 3: The infection chain of the loader used by the group",
        "Image: BleepingComputer screenshot of the ransom note left on servers",
        "Source: Microsoft Threat Intelligence report on the Storm-0558 campaign",
        "Click here to download the full report on the ransomware attacks.",
        "Read more about the ransomware attack on the hospital in our earlier story.",
        "Share this article with colleagues who track ransomware attacks.",
        "Subscribe to our newsletter for daily ransomware and vulnerability news.",
        "By John Smith",
        "November 21, 2024",
        "2024年11月21日",
    ]
    body = (
        "A ransomware attack on a regional hospital in Ohio disrupted emergency care for three "
        "days last week. Attackers exploited an unpatched vulnerability in the hospital's VPN. "
        "Patient records of 80,000 people may have been stolen in the attack."
    )
    for line in furniture:
        bullets = offline_bullets(line + "\n\n" + body)
        assert line not in bullets, line
        assert len(bullets) == 3


def test_code_and_indicator_lists_are_not_summary_bullets() -> None:
    text = (
        "The campaign delivered the Lumma stealer through fake browser update pages.\n"
        "0:000> !heap -p -a esi 18b23000 5601000 1a173a5c 18b22fe8 16 18b22000 2000\n"
        "hxxp://update-check[.]net/a.bin 45.137.21[.]9 185.220.101[.]4 cdn.evil[.]com\n"
        "The stealer takes browser passwords, cookies and crypto wallets from infected hosts.\n"
        "Researchers counted more than 2,000 compromised sites serving the fake updates.\n"
        "Site owners were told about the injected scripts by the researchers last week.\n"
    )
    bullets = offline_bullets(text)
    assert len(bullets) == 3
    assert not any("0:000>" in b or "hxxp://" in b for b in bullets)


def test_a_very_long_sentence_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    long = "The attackers " + " ".join(
        f"compromised server{i} in the data centre" for i in range(60)
    )
    cut = trim(long + ".")
    assert len(cut) <= 300
    assert cut.endswith("…")
    assert long.startswith(cut[:-1])
    assert cut[-2] != " "
    assert long[len(cut) - 1] == " "  # the cut fell where a word ended


def test_a_long_japanese_sentence_is_cut_at_a_character_boundary() -> None:
    long = "攻撃者は" + "、".join(f"サーバー{i}を侵害し" for i in range(80)) + "た。"
    cut = trim(long)
    assert len(cut) <= 300
    assert cut.endswith("…")
    assert long.startswith(cut[:-1])


def test_trim_collapses_whitespace() -> None:
    assert trim("  The   flaw\n is\tcritical.  ") == "The flaw is critical."


def test_result_fields_for_an_english_article() -> None:
    result = summarize_offline(
        SummaryInput(text=EN_ARTICLE, title="Telecom breached via FortiOS", url="https://x.test/a")
    )
    assert result.title == "Telecom breached via FortiOS"
    assert result.engine == "offline"
    assert result.section is Section.DAILY_NEWS
    assert result.lang == "en"
    assert result.model is None
    assert result.model_recommendations == []
    assert not result.degraded
    assert 3 <= len(result.bullets) <= 6
    assert result.bullets[0].startswith("A financially motivated threat group exploited")


def test_japanese_article_is_summarised_in_japanese() -> None:
    result = summarize_offline(SummaryInput(text=JA_ARTICLE, target_lang="en"))
    assert result.lang == "ja"
    assert result.title == "国内の部品メーカーにランサムウェア攻撃、生産システムが停止"
    assert 3 <= len(result.bullets) <= 6
    assert result.bullets[0].startswith("大阪府に本社を置く部品メーカーの東和精機は")
    assert all(re.search(r"[ぁ-ん]", b) for b in result.bullets)


def test_source_lang_given_wins_over_detection() -> None:
    assert summarize_offline(SummaryInput(text=EN_ARTICLE, source_lang="de")).lang == "de"
    assert summarize_offline(SummaryInput(text="???")).lang == "en"


def test_title_falls_back_to_the_first_sentence_without_its_full_stop() -> None:
    result = summarize_offline(SummaryInput(text=NO_ADVICE))
    assert result.title == (
        "Police in Spain arrested three suspects accused of running a phishing service used by "
        "thousands of criminals"
    )


def test_a_long_first_sentence_is_shortened_for_the_title() -> None:
    text = "The attackers " + " ".join(f"breached network{i} of the bank" for i in range(40)) + "."
    title = summarize_offline(SummaryInput(text=text)).title
    assert len(title) <= 120
    assert title.endswith("…")


def test_iocs_from_the_input_are_accepted() -> None:
    ioc = Ioc(
        type=IocType.IPV4,
        value="45.137.21.9",
        defanged="45.137.21[.]9",
        raw="45.137.21[.]9",
        was_defanged=True,
        start=0,
        end=13,
    )
    result = summarize_offline(SummaryInput(text=EN_ARTICLE, iocs=(ioc,)))
    assert 3 <= len(result.bullets) <= 6


def _long_report() -> str:
    """About 5,000 words: the two parts again and again, each paragraph made distinct."""
    paragraphs = [
        _flat(p).replace("six weeks", f"{i} weeks").replace("37", str(100 + i))
        for i in range(10)
        for p in (EN_ARTICLE + EN_SECOND_PART).split("\n\n")
    ]
    return "\n\n".join(f"Section {i}: {p}" for i, p in enumerate(paragraphs))


def test_a_5000_word_article_gets_six_distinct_bullets_in_document_order() -> None:
    # Speed is measured by the benchmark, not asserted here; this is the long-input shape.
    text = _long_report()
    assert len(text.split()) > 5000
    bullets = summarize_offline(SummaryInput(text=text)).bullets
    assert len(bullets) == 6
    assert len(set(bullets)) == 6
    positions = [text.find(b.rstrip("…")[:40]) for b in bullets]
    assert positions == sorted(positions)


async def test_offline_engine_summarizes_under_asyncio() -> None:
    engine: SummaryEngine = OfflineEngine()
    result = await engine.summarize(SummaryInput(text=JA_ARTICLE))
    assert engine.name == "offline"
    assert result.engine == "offline"
    assert result.bullets == summarize_offline(SummaryInput(text=JA_ARTICLE)).bullets


def test_figure_references_citation_marks_and_page_numbers_are_trimmed_from_bullets() -> None:
    text = (
        "The Vortex loader spreads through fake invoices sent to accounting firms (see Figure 2). "
        "It was first described by two vendors last spring[8]. "
        "7 / 59 The loader installs a backdoor that steals saved browser passwords."
    )
    assert offline_bullets(text) == [
        "The Vortex loader spreads through fake invoices sent to accounting firms.",
        "It was first described by two vendors last spring.",
        "The loader installs a backdoor that steals saved browser passwords.",
    ]


def test_a_page_header_repeated_on_every_page_is_never_a_bullet() -> None:
    header = "Acme Threat Intelligence Report on the Vortex Loader Campaign of 2024, page"
    pages = [
        "The Vortex loader campaign infected 300 hosts at manufacturers in Germany.",
        "Attackers sent invoices with macros that installed the loader on accounting PCs.",
        "The loader stole saved passwords and deployed ransomware on file servers.",
        "Investigators found the same loader in attacks on two hospitals in Bavaria.",
        "Vendors released detection rules and the police seized two C2 servers.",
    ]
    text = "\n\n".join(f"{header} {i}.\n{page}" for i, page in enumerate(pages, 1))
    bullets = offline_bullets(text)
    assert len(bullets) == 3
    assert not any(header in b for b in bullets)


def test_sentences_under_an_indicator_appendix_are_not_preferred() -> None:
    story = (
        "The Vortex loader campaign hit manufacturers in Germany and Japan in March.\n"
        "Attackers sent invoices with macros that installed the Vortex loader on 300 hosts.\n"
        "The loader stole passwords and installed ransomware on file servers.\n"
        "Investigators found the same Vortex loader in attacks on two hospitals.\n"
        "Vendors released detection rules for the Vortex loader last week.\n\n"
    )
    appendix = "Indicators of compromise\n" + "".join(
        f"The Vortex loader sample number {i} talked to its C2 server on port 443.\n"
        for i in range(5)
    )
    bullets = offline_bullets(story + appendix)
    assert not any("sample number" in b for b in bullets)


def test_of_two_sentences_saying_the_same_the_shorter_is_picked() -> None:
    short = "The Vortex loader stole passwords from 300 hosts in Germany."
    long = (
        "In what researchers described at length as a campaign that, over several months and "
        "across many different organisations and sectors in several regions of the country, "
        "was carefully planned, the Vortex loader stole passwords from 300 hosts in Germany."
    )
    lede = "Police in Germany warned companies about a password-stealing loader on Monday."
    text = f"{lede}\n\n{long}\n\n{short}\n\nThe vendor fixed the flaw. Nobody was arrested."
    bullets = offline_bullets(text)
    assert short in bullets
    assert long not in bullets


def test_japanese_text_without_spaces_is_split_and_scored() -> None:
    bullets = offline_bullets(_fixture_body("japan_ja_hospital.txt"))
    assert 3 <= len(bullets) <= 6
    assert all(b.endswith("。") for b in bullets)
    assert bullets[0].startswith("静岡県内の市立病院は2月10日")


def _fixture_body(name: str) -> str:
    path = FIXTURES / "summarize" / name
    return path.read_text(encoding="utf-8").split("\n\n", 1)[1]
