"""Which section of the digest an article belongs in, by rules a reader can check.

Each section has weighted cue words (English patterns and Japanese substrings). A cue in
the title counts three times, in the lede (the first 500 characters) twice, further down
once (only the first 5,000 characters are read), and each cue counts once however often
it is repeated. A few structural signals are
added: many indicators make a campaign write-up, many percentages a report. The section
with the highest score wins when it reaches `THRESHOLD`; anything else is daily news. A
campaign told in a reporter's voice ("said", "according to") rather than the researchers'
own ("we", "our") is a news story, and daily news, as the analysts' sample files them.

Japanese incidents come first and are decided apart: a Japanese text (or one about a
Japanese organisation) that reports an incident (不正アクセス, 情報漏えい, ランサムウェア被害 ...)
in the voice of a disclosure (公表, 発表, お知らせ, 判明 ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.services.iocs import Ioc, IocType, find_iocs
from app.services.reports.sections import Section

THRESHOLD = 4.0
_LEDE_CHARS = 500
_BODY_CHARS = 5000  # what a story is about is said early; a long report's tail is detail
_FIRST_CHARS = 150  # the first sentence, about
_TITLE, _LEDE, _BODY = 3.0, 2.0, 1.0


@dataclass(frozen=True, slots=True)
class Cue:
    """A word or phrase that speaks for one section, and what it is worth."""

    pattern: re.Pattern[str]
    weight: float


def _cues(weighted: Sequence[tuple[str, float]]) -> tuple[Cue, ...]:
    """Patterns are matched on lower-cased text (faster than ignoring case); English ones
    get word boundaries, Japanese ones are substrings."""
    out = []
    for pattern, weight in weighted:
        regex = rf"\b(?:{pattern.lower()})\b" if pattern.isascii() else pattern.lower()
        out.append(Cue(re.compile(regex), weight))
    return tuple(out)


_SECTION_CUES: dict[Section, tuple[Cue, ...]] = {
    Section.TOOLS: _cues(
        [
            (r"open[- ]source", 1.0),
            (r"tool(?:s|kit)?|utility|scanner|fuzzer|framework", 1.0),
            (r"(?:released?|releases|launch(?:es|ed)?|introduc(?:es|ed|ing))", 0.5),
            (r"github(?:\.com)?|pip install|git clone|docker run|brew install", 1.0),
            (r"command[- ]line|cli|plugin|extension|library", 0.5),
            (r"ツール|オープンソース|OSS|スキャナ|フレームワーク", 1.0),
            ("リリース|公開した", 0.5),
            # A flaw, its exploit or its patch makes the story news, even with a GitHub link.
            (r"exploits?|vulnerabilit(?:y|ies)|flaws?|cve-\d{4}-\d+|zero-day", -0.5),
            ("脆弱性|ゼロデイ|悪用", -0.5),
        ]
    ),
    Section.MALWARE_CAMPAIGN: _cues(
        [
            (r"campaigns?", 1.0),
            (r"operation|wave|spree", 0.5),
            (r"malware|ransomware|botnet|wiper|rootkit|variant", 0.5),
            (r"loader|stealer|infostealer|backdoor|trojan|rat|dropper|downloader|implant", 1.0),
            (r"infection chain|payloads?|c2|command[- ]and[- ]control|persistence", 1.0),
            (r"phishing (?:emails?|lures?|campaign)|malspam|spear-?phishing", 0.5),
            (r"threat actors?|apt ?\d*|threat group|operators", 0.5),
            (r"indicators of compromise|iocs?|ttps?|mitre att&ck", 1.0),
            ("キャンペーン", 1.0),
            ("マルウェア|ランサムウェア|ボットネット", 0.5),
            ("ローダー|スティーラー|バックドア|トロイの木馬|感染チェーン|C2サーバ|ペイロード", 1.0),
            ("攻撃グループ|攻撃者グループ|APT", 0.5),
            ("IOC|侵害指標", 1.0),
        ]
    ),
    Section.SECURITY_REPORT: _cues(
        [
            (r"(?:annual|yearly|quarterly|mid-year|semi-annual)", 1.0),
            (r"reports?|study|survey|whitepaper|white paper", 1.0),
            (r"threat landscape|trends?|statistics|findings|year[- ]over[- ]year", 1.0),
            (r"respondents|per ?cent|percentage|surveyed|polled", 1.0),
            (r"q[1-4]|h[12]|first half|second half|20\d\d in review", 0.5),
            (r"threats? (?:in|of) 20\d\d|20\d\d (?:threat|security) report|q[1-4] 20\d\d", 1.0),
            ("レポート|報告書|白書|調査結果|年次|四半期|上半期|下半期", 1.0),
            ("動向|統計|傾向|回答|前年比", 1.0),
        ]
    ),
    Section.CYBERCRIME_TOPICS: _cues(
        [
            (
                r"arrest(?:s|ed)?|charged|indicted|sentenced|extradited|convicted|pleaded guilty",
                1.5,
            ),
            (r"police|law enforcement|europol|interpol|fbi|doj|department of justice", 1.0),
            (r"seiz(?:e|ed|es|ure)|takedown|taken down|dismantled|shut down|disrupted", 1.0),
            (r"marketplace|dark ?web|darknet|underground forum|cybercrime forum|carding", 1.0),
            (r"fraud(?:sters)?|scam(?:s|mers)?|money laundering|bec|investment scam", 1.0),
            (r"cybercrim(?:e|inal)s?|suspects?|crime ring|gang members", 0.5),
            ("逮捕|容疑|摘発|送検|起訴|判決|押収", 1.5),
            ("警察|警視庁|県警|捜査", 1.0),
            ("詐欺|不正送金|マネーロンダリング|闇市場|ダークウェブ|犯罪フォーラム", 1.0),
        ]
    ),
}

# Japanese incidents: what happened, that it is being disclosed, and to whom in Japan.
_JA_INCIDENT = re.compile(
    r"不正アクセス|情報漏[えい洩]|漏[えい洩]|流出|ランサムウェア|サイバー攻撃を受け|感染|"
    r"改ざん|なりすまし|乗っ取|不正ログイン|不正利用|被害|システム障害|暗号化"
)
_JA_DISCLOSURE = re.compile(r"公表|発表|お知らせ|お詫び|判明|明らかにし|報告|確認された|確認し")
_JA_ORG = re.compile(
    r"株式会社|（株）|\(株\)|会社|同社|当社|弊社|企業|メーカー|大学|学校|病院|市役所|役場|"
    r"[都道府県市町村]|省|庁|機構|協会|組合|団体"
)
_EN_JAPAN = re.compile(r"\b(?:Japan|Japanese|Tokyo|Osaka|Nagoya|Kyoto|Yokohama|Fukuoka)\b")
_EN_INCIDENT = re.compile(
    r"\b(?:breach(?:ed)?|hacked|ransomware attack|cyberattack|data leak|leaked|"
    r"unauthori[sz]ed access|compromised)\b",
    re.IGNORECASE,
)
# Not a Japanese incident: an arrest, or a story set abroad.
_JA_ARREST = re.compile(r"逮捕|容疑者|送検|起訴|\b(?:arrest|charged|sentenced)", re.IGNORECASE)
_FOREIGN = re.compile(
    r"米国|米政府|米企業|海外|英国|欧州|中国(?!電力|地方|新聞|銀行|放送)|ロシア|韓国|台湾|"
    r"ドイツ|フランス|インド|豪州|北朝鮮|イラン"
)
_FIRST_PERSON = re.compile(
    r"\b(?:we|our|us)\b|弊社|当社|我々|本記事|本ブログ|本レポート|確認している|観測している",
    re.IGNORECASE,
)
_NEWS_VOICE = re.compile(
    r"\b(?:said|says|told|according to|reported|spokesperson|declined to comment|"
    r"researchers (?:call|named|say))\b|によると|と発表|としている|と述べ|明らかにした"
)
_PERCENT = re.compile(r"\d+(?:\.\d+)?\s?(?:%|％|percent|per cent)")
_INDICATORS = frozenset(
    {IocType.IPV4, IocType.IPV6, IocType.DOMAIN, IocType.URL, IocType.MD5, IocType.SHA1}
    | {IocType.SHA256, IocType.SHA512}
)


def _reported(text: str) -> bool:
    """Told in a reporter's voice ("said", "according to", によると) more than in the
    researchers' own ("we", "our", 弊社, 本記事)."""
    return len(_NEWS_VOICE.findall(text)) > len(_FIRST_PERSON.findall(text))


def _japan_incident(title: str, lede: str, ja: bool) -> bool:
    """A Japanese organisation disclosing an incident (an arrest is cybercrime news)."""
    head = f"{title}\n{lede[:_FIRST_CHARS]}"  # the incident must be named early
    where = title or lede[:_FIRST_CHARS]  # a story set abroad says so in its title
    if _JA_ARREST.search(where) or _FOREIGN.search(where):
        return False
    text = f"{title}\n{lede}"
    if ja:
        return bool(
            _JA_INCIDENT.search(head) and _JA_DISCLOSURE.search(text) and _JA_ORG.search(text)
        )
    return bool(_EN_JAPAN.search(text) and _EN_INCIDENT.search(head))


def section_scores(title: str, text: str, *, iocs: Sequence[Ioc] = ()) -> dict[Section, float]:
    """Each section's score for this article: the sum of its cues, weighted by where each
    is first found, plus the structural signals. For tests and for explaining a choice."""
    title, lede, body = (
        title.lower(),
        text[:_LEDE_CHARS].lower(),
        text[_LEDE_CHARS:_BODY_CHARS].lower(),
    )
    scores: dict[Section, float] = {}
    for section, section_cues in _SECTION_CUES.items():
        total = 0.0
        for cue in section_cues:
            if title and cue.pattern.search(title):
                total += _TITLE * cue.weight
            elif cue.pattern.search(lede):
                total += _LEDE * cue.weight
            elif cue.pattern.search(body):
                total += _BODY * cue.weight
        scores[section] = total
    found = iocs if iocs else find_iocs(text)
    # Well-known, documentation or the site's own names say nothing about a campaign.
    indicators = sum(1 for i in found if i.type in _INDICATORS and not i.flags)
    if indicators >= 5:
        scores[Section.MALWARE_CAMPAIGN] += 2.0
    if len(_PERCENT.findall(text[:_BODY_CHARS])) >= 4:
        scores[Section.SECURITY_REPORT] += 2.0
    if _reported(text[:_BODY_CHARS]):
        # The researchers' own write-up is a campaign entry; a news story about a campaign
        # is daily news, as the analysts' sample digest files such stories.
        scores[Section.MALWARE_CAMPAIGN] = 0.0
    return scores


def classify_section(
    title: str, text: str, *, lang: str | None = None, iocs: Sequence[Ioc] = ()
) -> Section:
    """The digest section for an article: the best-scoring one, or daily news."""
    ja = (lang or "")[:2].lower() == "ja"
    if _japan_incident(title, text[:_LEDE_CHARS], ja):
        return Section.JAPAN_INCIDENTS
    scores = section_scores(title, text, iocs=iocs)
    best = max(scores, key=lambda s: scores[s])
    return best if scores[best] >= THRESHOLD else Section.DAILY_NEWS
