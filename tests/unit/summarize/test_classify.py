"""The digest section of an article, by rules, on short fixture articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.iocs import find_iocs
from app.services.reports.sections import Section
from app.services.summarize.base import SummaryInput
from app.services.summarize.classify import THRESHOLD, classify_section, section_scores
from app.services.summarize.offline import summarize_offline
from tests.support.paths import FIXTURES

SUMMARIZE_FIXTURES = FIXTURES / "summarize"


def _load(path: Path) -> tuple[dict[str, str], str]:
    head, body = path.read_text(encoding="utf-8").split("\n\n", 1)
    meta = dict(line.split(": ", 1) for line in head.splitlines())
    return meta, body


ARTICLES = sorted(SUMMARIZE_FIXTURES.glob("*.txt"))


def test_there_are_fixtures_for_every_section_but_the_memos() -> None:
    sections = {_load(path)[0]["section"] for path in ARTICLES}
    assert sections == {s.value for s in Section} - {Section.MEMOS.value}
    assert len(ARTICLES) >= 20
    assert {_load(path)[0]["lang"] for path in ARTICLES} == {"en", "ja"}


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.stem)
def test_each_fixture_article_lands_in_its_section(path: Path) -> None:
    meta, body = _load(path)
    got = classify_section(meta["title"], body, lang=meta["lang"], iocs=find_iocs(body))
    assert got.value == meta["section"]


def test_summarize_offline_fills_the_section_from_title_and_text() -> None:
    meta, body = _load(SUMMARIZE_FIXTURES / "japan_ja_breach.txt")
    result = summarize_offline(SummaryInput(text=body, title=meta["title"]))
    assert result.section is Section.JAPAN_INCIDENTS
    meta, body = _load(SUMMARIZE_FIXTURES / "tools_en_scanner.txt")
    assert summarize_offline(SummaryInput(text=body, title=meta["title"])).section is Section.TOOLS


def test_without_strong_cues_an_article_is_daily_news() -> None:
    text = "The vendor fixed a bug in its router firmware. Version 2.4 is available now."
    assert max(section_scores("Router firmware update", text).values()) < THRESHOLD
    assert classify_section("Router firmware update", text, lang="en") is Section.DAILY_NEWS


def test_a_cue_in_the_title_counts_more_than_the_same_cue_in_the_body() -> None:
    body = "Officers said the investigation continues. " * 3 + "Two suspects were arrested."
    in_title = section_scores("Two suspects arrested", body)[Section.CYBERCRIME_TOPICS]
    in_body = section_scores("An investigation continues", body)[Section.CYBERCRIME_TOPICS]
    assert in_title > in_body > 0


def test_a_repeated_cue_counts_once() -> None:
    once = section_scores("x", "They were arrested.")[Section.CYBERCRIME_TOPICS]
    often = section_scores("x", "They were arrested. " * 5)[Section.CYBERCRIME_TOPICS]
    assert once == often


def test_many_indicators_make_a_campaign_write_up() -> None:
    iocs = "\n".join(f"evil-{i}-update[.]com" for i in range(6))
    body = "We observed new activity from the group this month.\n\n" + iocs
    without = section_scores("New activity", "We observed new activity.")
    with_iocs = section_scores("New activity", body, iocs=find_iocs(body))
    assert with_iocs[Section.MALWARE_CAMPAIGN] >= without[Section.MALWARE_CAMPAIGN] + 2


def test_many_percentages_make_a_report() -> None:
    body = "Phishing rose 12%. Ransomware fell 8%. BEC grew 30%. Malware fell 4 percent."
    assert section_scores("Numbers", body)[Section.SECURITY_REPORT] >= 2


def test_a_japanese_arrest_is_cybercrime_not_a_japanese_incident() -> None:
    title = "不正アクセスの疑いで男を逮捕、企業のサーバーに侵入"
    text = "県警は、企業のサーバーに不正アクセスしたとして男を逮捕したと発表した。"
    assert classify_section(title, text, lang="ja") is Section.CYBERCRIME_TOPICS


def test_a_japanese_story_about_a_foreign_breach_is_not_a_japanese_incident() -> None:
    title = "米国の病院にランサムウェア攻撃、患者情報が流出と発表"
    text = "米国の病院は、ランサムウェア攻撃により患者情報が流出したと発表した。"
    assert classify_section(title, text, lang="ja") is not Section.JAPAN_INCIDENTS


def test_a_japanese_vulnerability_advisory_is_not_an_incident() -> None:
    title = "VPN製品に深刻な脆弱性、修正版の適用を呼びかけ"
    text = "国内のベンダーは、VPN製品に深刻な脆弱性が見つかったと発表した。"
    assert classify_section(title, text, lang="ja") is Section.DAILY_NEWS


def test_an_english_story_about_a_japanese_company_breach_is_a_japanese_incident() -> None:
    title = "Japanese carmaker hit by ransomware attack"
    text = "A Japanese carmaker halted three plants after a ransomware attack on Sunday."
    assert classify_section(title, text, lang="en") is Section.JAPAN_INCIDENTS


def test_a_proof_of_concept_on_github_is_news_not_a_tool() -> None:
    title = "PoC exploit released for critical Jenkins flaw"
    text = "Researchers published a proof-of-concept exploit on GitHub for CVE-2024-23897."
    assert classify_section(title, text, lang="en") is Section.DAILY_NEWS
