"""The word lists and patterns the offline engine reads a security article with.

Kept apart from the ranking so that the rules can be read (and argued about) in one place.
English patterns go behind a substring gate (`Gated`): `in` runs in C and most sentences
fail it, while a regex full of word boundaries is tried at every position.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_I = re.IGNORECASE


class Gated:
    """A regex behind a substring gate. Every match must contain one of the lower-case
    gate strings, so a sentence without any of them cannot match and is not searched."""

    __slots__ = ("gate", "regex")

    def __init__(self, pattern: str, gate: Iterable[str], flags: int = 0) -> None:
        self.regex = re.compile(pattern, flags)
        self.gate = tuple(gate)

    def search(self, text: str) -> re.Match[str] | None:
        """Like re.Pattern.search, after the gate."""
        low = text.lower()
        return self.regex.search(text) if any(g in low for g in self.gate) else None


CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")

STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "new",
        "said",
        "says",
        "one",
        "two",
        "may",
        "might",
        "us",
        "per",
        "via",
        "like",
    ]
)

# Who/what/how of a security story: word stems, counted once each.
SECURITY_STEMS = (
    "attack", "exploit", "vulnerab", "flaw", "zero-day", "0-day", "malware", "ransomware",
    "campaign", "victim", "breach", "cve-", "actor", "hacker", "compromis", "infect", "phish",
    "backdoor", "trojan", "botnet", "spyware", "stealer", "loader", "espionage", "exfiltrat",
    "leak", "stole", "steal", "credential", "supply-chain", "rce", "privilege", "c2", "ddos",
    "extort", "target", "wiper", "rootkit", "implant", "payload", "dropper", "intrusion",
    "unauthori", "apt",
)  # fmt: skip
SECURITY_JA = re.compile(
    r"攻撃|脆弱性|マルウェア|ランサムウェア|不正アクセス|情報漏[えい洩]|漏[えい洩]|被害|感染|侵害|"
    r"標的|フィッシング|悪用|窃取|流出|脅威|バックドア|ゼロデイ|詐欺|乗っ取|改ざん|暗号化|身代金|"
    r"侵入|不正"
)
# A CVE id: part of the story. Other indicators are listed apart in the digest, so they
# only count when the IOC engine found them (the input's `iocs`), and then only a little.
CVE = Gated(r"\bCVE-\d{4}-\d{4,}\b", ("cve-",), _I)
# A sentence that leans on the one before it reads badly on its own.
CONNECTIVE = re.compile(
    r"^(?:however|but|and|also|this|that|these|those|it|they|he|she|its|their|such)\b|"
    r"^(?:また|しかし|これ|この|それ|その|なお|ただし|さらに)",
    _I,
)
# The author saying what the post is about or what was found: where a lede's words are.
# (Edmundson's "cue words", for threat research and news.)
SUMMARY_CUE = Gated(
    r"\b(?:this|our|the present) (?:blog|post|report|article|paper|research|analysis|write-?up)\b|"
    r"\b(?:we|researchers|unit ?42|analysts) (?:have )?(?:discovered|identified|observed|found|"
    r"uncovered|named|dubbed|detected|attribute|believe|assess)\b|"
    r"\b(?:in summary|in conclusion|to summari[sz]e|key findings|overall)\b|"
    r"\b(?:dubbed|named|called|tracked as|known as)\s+[\"“']?[A-Z]|"
    r"本(?:レポート|記事|ブログ|調査)|今回|発表|公表|明らかに|確認された|発見",
    (
        "this ",
        "our ",
        "the present",
        "we ",
        "researchers",
        "unit",
        "analysts",
        "summar",
        "conclusion",
        "key findings",
        "overall",
        "dubbed",
        "named",
        "called",
        "tracked as",
        "known as",
        "本",
        "今回",
        "発表",
        "公表",
        "明らかに",
        "確認された",
        "発見",
    ),
    _I,
)
# Headings whose section restates the story (an introduction, a conclusion).
SUMMARY_HEADING = re.compile(
    r"\b(?:summary|overview|introduction|conclusions?|key (?:findings|takeaways)|background|"
    r"in short)\b|概要|まとめ|はじめに|結論",
    _I,
)
# Headings whose section is a list of indicators or a how-to, never the story.
APPENDIX_HEADING = re.compile(
    r"\b(?:indicators? of compromise|iocs?|appendix|hashes|yara|sigma|references?|"
    r"mitre att&ck|ttps?|detection|coverage|protections?|acknowledg\w*)\b|IOC|付録|参考",
    _I,
)

# Page furniture that extraction lets through: never a bullet, recommendation or note.
_FURNITURE = (
    "click here", "read more", "read the full", "share this", "share on", "subscribe",
    "sign up for", "newsletter", "follow us", "all rights reserved", "cookie policy",
    "accept cookies", "privacy policy", "terms of use", "advertisement", "sponsored content",
    "related article", "related post", "related stories", "continue reading", "sign in to",
    "log in to", "shall be deemed", "without providing any", "legally applicable warranty",
    "tlp:", "©", "関連記事", "続きを読む", "こちらをクリック", "詳しくはこちら", "シェアする",
    "メールマガジン", "会員登録",
)  # fmt: skip
BOILERPLATE = Gated(
    r"\b(?:"
    + "|".join(re.escape(f) for f in _FURNITURE if f.isascii())
    + r")|©|"
    + "|".join(f for f in _FURNITURE if not f.isascii() and f != "©"),
    _FURNITURE,
    _I,
)
BOILERPLATE_START = re.compile(
    r"(?:figure|fig\.|table|image|photo|screenshot|source|credit|via)\s*\d*\s*[:.：]|"
    r"(?:figure|fig\.|table)\s*\d+\b|"
    r"(?:updated|published|posted|last updated)\b(?: on| by)?\s*:?\s*\S+(?:\s+\S+){0,6}$|"
    r"(?:出典|画像|写真|図|表|資料|提供)\s*\d*\s*[:：]|[図表]\s*\d+",
    _I,
)
BYLINE = re.compile(r"^By\s+[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*)+\s*(?:[,|•–-].*)?$")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
DATE_ONLY = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日(?:\s*[（(].[）)])?)"
    r"(?:[\s,]+\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,4})?)?\.?$",
    _I,
)
# Leftovers at the start of a sentence: "Figure 3 ", a page number "7 / 59".
LEADING_JUNK = re.compile(r"^(?:\d{1,3}\s*/\s*\d{1,3}\s*|(?:figure|fig\.|table)\s*\d+[.:]?\s+)", _I)


def is_boilerplate(text: str) -> bool:
    """Page furniture: share/subscribe lines, captions, bylines, a date on its own."""
    return bool(
        BOILERPLATE.search(text)
        or BOILERPLATE_START.match(text)
        or DATE_ONLY.match(text)
        or (BYLINE.match(text) and len(text.split()) <= 10)
    )
