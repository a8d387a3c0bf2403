"""The offline (extractive) engine: picks the article's most informative sentences, no model.

It is the embedded default when no LLM is configured, so it writes in the article's own
language and never invents text: every bullet, recommendation and note is a sentence of
the article, trimmed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.services.lang import detect_lang
from app.services.sections import Section
from app.services.summarize.base import SummaryInput, SummaryResult
from app.services.summarize.sentences import Sentence, segment

MIN_BULLETS, MAX_BULLETS = 3, 6
MAX_RECOMMENDATIONS, MAX_OTHER = 5, 3
BULLET_CHARS = 300
TITLE_CHARS = 120
_REDUNDANT = 0.5  # Jaccard at or above which two sentences say the same
_CONTAINED = 0.8  # share of the smaller sentence found in the bigger one

_I = re.IGNORECASE
_WS = re.compile(r"\s+")
_EN_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
_JA_TERM = re.compile(r"[ァ-ヴー]{2,}|[A-Za-z][A-Za-z0-9.-]*[A-Za-z0-9]|[一-龥々]{2,}")
_JA_ENTITY = re.compile(r"[ァ-ヴー]{3,}|[A-Za-z][A-Za-z0-9-]{2,}")  # product, malware, org
_KANJI_RUN = re.compile(r"[一-龥々]{2,}")
_NON_TEXT = re.compile(r"[\s\W_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_STOP_WORDS = (
    "a about above after again against all also am an and any are as at be been before being "
    "below between both but by can could did do does doing down during each few for from "
    "further had has have having he her here hers him his how i if in into is it its itself "
    "just more most my no nor not now of off on once only or other our ours out over own same "
    "she should so some such than that the their theirs them then there these they this those "
    "through to too under until up very was we were what when where which while who whom why "
    "will with would you your yours new said says one two may might us per via like"
)
_STOP = frozenset(_STOP_WORDS.split())
# A word of prose: letters with at most a quote, bracket or punctuation mark around them.
_PROSE_WORD = re.compile(r"[\"'“‘(\[]?[A-Za-z][A-Za-z'’-]*[\"'”’)\],.;:!?]*")
_MIN_PROSE = 0.6


class _Gated:
    """A regex behind a substring gate: `in` runs in C and most sentences fail it, while a
    regex full of word boundaries is tried at every position (5x slower on long reports).
    Every match of the regex must contain one of the (lower-case) gate strings."""

    __slots__ = ("gate", "regex")

    def __init__(self, pattern: str, gate: Iterable[str], flags: int = 0) -> None:
        self.regex = re.compile(pattern, flags)
        self.gate = tuple(gate)

    def search(self, text: str) -> re.Match[str] | None:
        """Like re.Pattern.search, after the gate."""
        low = text.lower()
        return self.regex.search(text) if any(g in low for g in self.gate) else None


_DIGITS = tuple("0123456789")

# Who/what/how of a security story: word stems, counted once each.
_SECURITY_STEMS = (
    "attack", "exploit", "vulnerab", "flaw", "zero-day", "0-day", "malware", "ransomware",
    "campaign", "victim", "breach", "cve-", "actor", "hacker", "compromis", "infect", "phish",
    "backdoor", "trojan", "botnet", "spyware", "stealer", "loader", "espionage", "exfiltrat",
    "leak", "stole", "steal", "credential", "supply-chain", "rce", "privilege", "c2", "ddos",
    "extort", "target", "wiper", "rootkit", "implant", "payload", "dropper", "intrusion",
    "unauthori", "apt",
)  # fmt: skip
_SECURITY_JA = re.compile(
    r"攻撃|脆弱性|マルウェア|ランサムウェア|不正アクセス|情報漏[えい洩]|漏[えい洩]|被害|感染|侵害|"
    r"標的|フィッシング|悪用|窃取|流出|脅威|バックドア|ゼロデイ|詐欺|乗っ取|改ざん|暗号化|身代金|"
    r"侵入|不正"
)
# Cheap "this sentence names an artefact" signals; the IOC engine decides what IOCs are.
_TLDS = ("com", "net", "org", "io", "ru", "cn", "info", "xyz", "top", "biz", "cc", "jp", "su")
_ARTEFACT = _Gated(
    r"\bCVE-\d{4}-\d{4,}\b|\b[a-f0-9]{32}(?:[a-f0-9]{8}|[a-f0-9]{32}|[a-f0-9]{96})?\b|"
    r"\b\d{1,3}(?:\[?\.\]?\d{1,3}){3}\b|hxxps?://|\[\.\]|\(\.\)|\[dot\]|"
    rf"\b[a-z0-9-]+\.(?:{'|'.join(_TLDS)}|onion)\b",
    (*_DIGITS, "hxxp", "[.]", "(.)", "[dot]", ".onion", *(f".{t}" for t in _TLDS)),
    _I,
)
_NUMBER = re.compile(r"\d")
_CONNECTIVE = re.compile(
    r"^(?:however|but|and|also|this|that|these|those|it|they|he|she|its|their|such)\b|"
    r"^(?:また|しかし|これ|この|それ|その|なお|ただし|さらに)",
    _I,
)

# Page furniture that extraction lets through: never a bullet, recommendation or note.
_FURNITURE = (
    "click here", "read more", "read the full", "share this", "share on", "subscribe",
    "sign up for", "newsletter", "follow us", "all rights reserved", "cookie policy",
    "accept cookies", "privacy policy", "terms of use", "advertisement", "sponsored content",
    "related article", "related post", "related stories", "continue reading", "sign in to",
    "log in to", "©", "関連記事", "続きを読む", "こちらをクリック", "詳しくはこちら",
    "シェアする", "メールマガジン", "会員登録",
)  # fmt: skip
_BOILERPLATE = _Gated(
    r"\b(?:"
    + "|".join(re.escape(f) for f in _FURNITURE if f.isascii())
    + r")|©|"
    + "|".join(f for f in _FURNITURE if not f.isascii() and f != "©"),
    _FURNITURE,
    _I,
)
_BOILERPLATE_START = re.compile(
    r"(?:figure|fig\.|table|image|photo|screenshot|source|credit|via)\s*\d*\s*[:.：]|"
    r"(?:figure|fig\.|table)\s*\d+\b|"
    r"(?:updated|published|posted|last updated)\b(?: on| by)?\s*:?\s*\S+(?:\s+\S+){0,6}$|"
    r"(?:出典|画像|写真|図|表|資料|提供)\s*\d*\s*[:：]|[図表]\s*\d+",
    _I,
)
_BYLINE = re.compile(r"^By\s+[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*)+\s*(?:[,|•–-].*)?$")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_ONLY = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|"
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日(?:\s*[（(].[）)])?)"
    r"(?:[\s,]+\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,4})?)?\.?$",
    _I,
)

# Advice. Strong words count anywhere; action verbs only after a modal, as an imperative
# or in "To mitigate ...", because news also says "the attackers disabled Defender".
_ACTIONS = (
    r"(?:patch|update|upgrade|apply|install|enable|disable|block|monitor|review|check|change|"
    r"reset|rotate|restrict|remove|avoid|ensure|consider|implement|deploy|follow|verify|limit|"
    r"audit|hunt|keep|configure|isolate|segment|back up|turn|report|contact|scan|revoke|"
    r"mitigate|protect|prioriti[sz]e|replace|disconnect|inspect|look|use|"
    r"be (?:cautious|careful|aware|vigilant|wary|alert|patched|updated|upgraded|disabled|"
    r"enabled|blocked|reviewed|monitored|rotated|reset|applied|installed|restricted|removed))"
)
_REC_STRONG = _Gated(
    r"\b(?:recommend(?:s|ed|ing|ations?)?|urge[sd]?|urging|advised?|advises|advising|"
    r"encourage[sd]?|encouraging|best practices?)\b",
    ("recommend", "urg", "advis", "encourag", "best practice"),
    _I,
)
_REC_MODAL = _Gated(
    rf"\b(?:should|must|needs? to|ought to|have to|has to)\s+(?:\w+\s+){{0,2}}?{_ACTIONS}\b",
    ("should", "must", "need", "ought to", "have to", "has to"),
    _I,
)
# An imperative opening ("Apply the update", not "Update: ..." nor "Update 11/25") or a
# defensive purpose clause ("To mitigate the risk, ...").
_REC_START = re.compile(
    r"(?:Please\s+)?(?:Patch|Update|Upgrade|Apply|Install|Enable|Disable|Block|Mitigate|"
    r"Monitor|Review|Check|Change|Reset|Rotate|Restrict|Remove|Avoid|Ensure|Consider|Implement|"
    r"Deploy|Verify|Limit|Audit|Back up|Be (?:cautious|careful|aware|vigilant))\s+[a-z]|"
    r"To (?:mitigate|protect|defend|prevent|reduce|minimi[sz]e|stay safe|avoid|detect)\b"
)
# A modal about the attacker ("the malware must be run as admin") is not advice.
_ATTACKER_WORDS = (
    "attacker", "threat actor", "hacker", "malware", "ransomware", "operators", "the group",
    "the gang", "payload", "trojan", "backdoor",
)  # fmt: skip
_ATTACKER_SUBJECT = _Gated(
    rf"\b(?:{'|'.join(_ATTACKER_WORDS)})s?\b|攻撃者|マルウェア|グループ|ランサムウェア",
    (*_ATTACKER_WORDS, "攻撃者", "マルウェア", "グループ", "ランサムウェア"),
    _I,
)
_REC_JA = re.compile(
    r"推奨|呼びかけ|してください|ください|必要があり|必要がある|べき|勧め|勧告|望ましい|心がけ|"
    r"注意が必要"
)
_REC_JA_ACTION = re.compile(r"適用|更新|アップデート|アップグレード")
_REC_JA_OBJECT = re.compile(r"修正|パッチ|最新|セキュリティ|プログラム|バージョン")
_JA_QUOTED = re.compile(r"「[^「」]*」|『[^『』]*』")

# Attribution and the actor: strong phrases first, the generic "group"/"攻撃者" after.
_OTHER_JA = ("関与", "帰属", "国家", "支援を受け", "として追跡", "別名", "脅威アクター")
_OTHER_STRONG = _Gated(
    r"\battribut(?:ed|es|ing|ion)\b|\b(?:linked|tied|connected) to\b|\btracked as\b(?! CVE-)|"
    r"\balso known as\b|\baka\b|\ba\.k\.a\.|\bAPT ?-?\d+\b|\b(?:UNC|TA|FIN|Storm-|DEV-)\d{2,}\b|"
    r"\b(?:state|government)-(?:sponsored|backed|linked|aligned)\b|\bnation-state\b|"
    r"\bthreat actors?\b|\bbehind the (?:attacks?|campaign|operation|breach|intrusion)\b|"
    + "|".join(_OTHER_JA),
    (
        "attribut", "linked to", "tied to", "connected to", "tracked as", "also known", "aka",
        "a.k.a", "apt", "state", "-sponsored", "-backed", "-linked", "-aligned", "threat actor",
        "behind", *_DIGITS, *_OTHER_JA,  # digits: UNC2452, TA505, FIN7, Storm-0558
    ),
)  # fmt: skip
_OTHER_WEAK = _Gated(
    r"\b(?:(?i:hacking|hacker|threat|ransomware|cybercrime|cyber ?criminal|criminal|espionage|"
    r"extortion|APT|the|this|that)|[A-Z][\w-]+)\s+(?i:group|gang|crew|operators|cartel|syndicate)"
    r"s?\b|(?i:\boperators of\b|['’]s operators\b|\bthreat actor\b)|グループ|攻撃者|集団|アクター",
    (
        "group", "gang", "crew", "operator", "cartel", "syndicate", "threat actor", "グループ",
        "攻撃者", "集団", "アクター",
    ),
)  # fmt: skip


@dataclass(slots=True)
class _Candidate:
    unit: Sentence
    text: str
    terms: frozenset[str]  # content words: for centrality and the title bonus
    keys: frozenset[str]  # what redundancy is measured on
    opens_paragraph: bool
    score: float = 0.0


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    # Enough to match "attacks" with "attack" in a title; not a linguistic stemmer.
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _terms(text: str, ja: bool) -> frozenset[str]:
    """Content terms: stemmed English words, or katakana/Latin words and kanji bigrams."""
    if not ja:
        return frozenset(_stem(w) for w in _EN_WORD.findall(text.lower()) if w not in _STOP)
    out: set[str] = set()
    for term in _JA_TERM.findall(text):
        if _KANJI_RUN.fullmatch(term):
            out.update(term[i : i + 2] for i in range(len(term) - 1))
        else:
            out.add(term.lower())
    return frozenset(out)


def _bigrams(text: str) -> frozenset[str]:
    flat = _NON_TEXT.sub("", text.lower())
    return frozenset(flat[i : i + 2] for i in range(len(flat) - 1))


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    inter = len(a & b)
    return inter / len(a | b) >= _REDUNDANT or inter / min(len(a), len(b)) >= _CONTAINED


def _size(text: str, ja: bool) -> int:
    """Length in words; for Japanese, characters / 2.5, about what a word is worth there."""
    return round(len(text) / 2.5) if ja else len(text.split())


def _prose_share(text: str) -> float:
    """Share of the whitespace-separated tokens that are plain words (1.0 for Japanese)."""
    if _CJK.search(text):
        return 1.0
    tokens = text.split()
    return sum(1 for t in tokens if _PROSE_WORD.fullmatch(t)) / max(len(tokens), 1)


def _is_boilerplate(text: str) -> bool:
    return bool(
        _BOILERPLATE.search(text)
        or _BOILERPLATE_START.match(text)
        or _DATE_ONLY.match(text)
        or (_BYLINE.match(text) and len(text.split()) <= 10)
    )


def trim(text: str, limit: int = BULLET_CHARS) -> str:
    """Collapse whitespace and cut at a word (or, in Japanese, a character) boundary."""
    text = _WS.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if _CJK.search(cut[-20:]):
        comma = cut.rfind("、")
        if comma >= limit * 0.7:
            cut = cut[:comma]
    elif " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:、，") + "…"


def _bullet_count(size: int) -> int:
    """3 bullets for a brief, one more per step up in length, 6 for a long report."""
    return min(MIN_BULLETS + sum(size >= step for step in (200, 450, 900)), MAX_BULLETS)


def _length_penalty(size: int) -> float:
    if size < 8:
        return 0.25
    if size > 70:
        return 0.7
    if size > 45:
        return 0.3
    return 0.0


def _entities(text: str, ja: bool) -> int:
    if ja:
        return len(_JA_ENTITY.findall(text))
    words = text.split()[1:]  # the first word is capitalised anyway
    return sum(1 for w in words if w[:1].isupper() and w.lower().strip(",.;:") not in _STOP)


def _rank(
    cands: Sequence[_Candidate], title: str | None, ja: bool, ioc_strings: Iterable[str]
) -> None:
    """Give every candidate its score: lead, title terms, centrality, security signals."""
    freq: Counter[str] = Counter()
    for c in cands:
        freq.update(c.terms)
    title_terms = _terms(title, ja) if title else (cands[0].terms if cands else frozenset())
    iocs = [s.lower() for s in ioc_strings if len(s) >= 4][:200]
    centrality = [sum(freq[t] for t in c.terms) / (len(c.terms) + 4) for c in cands]
    top = max(centrality, default=0.0) or 1.0
    for i, c in enumerate(cands):
        text, low = c.text, c.text.lower()
        size = _size(text, ja)
        position = 1.0 / (1.0 + i / 3.0)
        overlap = len(c.terms & title_terms) / min(max(len(title_terms), 1), 6)
        signals = len({w[:6] for w in _EN_WORD.findall(low) if w.startswith(_SECURITY_STEMS)})
        if ja:
            signals += len(set(_SECURITY_JA.findall(text)))
        artefact = bool(_ARTEFACT.search(text)) or any(s in low for s in iocs)
        score = (
            1.2 * position
            + 0.8 * min(overlap, 1.0)
            + 0.8 * centrality[i] / top
            + 0.6 * min(signals, 3) / 3
            + 0.2 * bool(_NUMBER.search(text))
            + 0.3 * min(_entities(text, ja), 3) / 3
            + 0.2 * artefact
        )
        score -= _length_penalty(size)
        if text.endswith((":", "：")):
            score -= 0.4  # it introduces a list the bullet would not carry
        if text.endswith(("?", "？")):
            score -= 0.3
        if _CONNECTIVE.match(text):
            score -= 0.1  # leans on the sentence before it
        if c.opens_paragraph:
            score += 0.1
        c.score = score


def _clean(units: Sequence[Sentence]) -> list[tuple[Sentence, str]]:
    """Sentences and list items, trimmed, without headings, page furniture or repeats."""
    out: list[tuple[Sentence, str]] = []
    seen: set[str] = set()
    for u in units:
        text = trim(u.text)
        if u.heading or text in seen or _is_boilerplate(text):
            continue
        seen.add(text)
        out.append((u, text))
    return out


def _candidates(
    clean: Sequence[tuple[Sentence, str]], ja: bool
) -> tuple[list[_Candidate], list[_Candidate]]:
    """Split the sentences into good candidates and a reserve of short ones for tiny texts."""
    good: list[_Candidate] = []
    reserve: list[_Candidate] = []
    paragraph = -1
    for u, text in clean:
        opens, paragraph = u.paragraph != paragraph, u.paragraph
        if _prose_share(text) < _MIN_PROSE:
            continue  # code, debugger output, an IOC list: no summary, even of a short text
        terms = _terms(text, ja)
        cand = _Candidate(u, text, terms, _bigrams(text) if ja else terms, opens)
        if u.fragment or _size(text, ja) < 6 or not terms:
            reserve.append(cand)
        else:
            good.append(cand)
    return good, reserve


def _select(
    clean: Sequence[tuple[Sentence, str]],
    title: str | None,
    ja: bool,
    ioc_strings: Iterable[str] = (),
) -> list[str]:
    """The bullets: the best-scoring sentences, no two alike, in document order."""
    good, reserve = _candidates(clean, ja)
    text_size = sum(_size(c.text, ja) for c in good + reserve)
    want = _bullet_count(text_size)
    _rank(good, title, ja, ioc_strings)
    chosen: list[_Candidate] = []
    for c in sorted(good, key=lambda c: -c.score):
        if len(chosen) >= want:
            break
        if not any(_similar(c.keys, o.keys) for o in chosen):
            chosen.append(c)
    # A short text: fill up to the minimum with what is left rather than give two bullets.
    for c in reserve:
        if len(chosen) >= MIN_BULLETS:
            break
        if not any(_similar(c.keys, o.keys) for o in chosen):
            chosen.append(c)
    chosen.sort(key=lambda c: c.unit.index)
    return [c.text for c in chosen]


def _is_ja(text: str) -> bool:
    return detect_lang(text) in ("ja", "zh")


def offline_bullets(text: str) -> list[str]:
    """The summary bullets the offline engine writes for this text, in document order."""
    units = segment(text)
    return _select(_clean(units), _lead_title(units), _is_ja(text))


def _lead_title(units: Sequence[Sentence]) -> str | None:
    """The text's own title: a heading on its first line, else its first sentence."""
    for u in units:
        if not _is_boilerplate(u.text):
            return u.text
    return None


def _short_title(text: str) -> str:
    title = trim(text, TITLE_CHARS)
    # A sentence used as a title keeps no full stop; "U.S." and "…" stay as they are.
    if title.endswith("。") or (title.endswith(".") and not title.endswith("..")):
        title = title[:-1]
    return title


def _is_recommendation(text: str) -> bool:
    if _REC_STRONG.search(text) or _REC_START.match(text):
        return True
    modal = _REC_MODAL.search(text)
    if modal and not _ATTACKER_SUBJECT.search(text[: modal.start()]):
        return True
    if not _CJK.search(text):
        return False
    # A phishing lure quoted in 「」 says "してください" too; only the article's own voice counts.
    own = _JA_QUOTED.sub("", text)
    if _REC_JA.search(own):
        return True
    action = _REC_JA_ACTION.search(own)
    return bool(
        action
        and _REC_JA_OBJECT.search(own)
        and not _ATTACKER_SUBJECT.search(own[: action.start()])
    )


def _recommendations(sentences: Sequence[str]) -> list[str]:
    return [s for s in sentences if _is_recommendation(s)][:MAX_RECOMMENDATIONS]


def _other(sentences: Sequence[str], taken: set[str]) -> list[str]:
    """Attribution and actor sentences the bullets do not already carry, strong ones first."""
    free = [s for s in sentences if s not in taken]
    strong = [s for s in free if _OTHER_STRONG.search(s)]
    weak = [s for s in free if s not in strong and _OTHER_WEAK.search(s)]
    picked = set((strong + weak)[:MAX_OTHER])
    return [s for s in free if s in picked]


def summarize_offline(doc: SummaryInput) -> SummaryResult:
    """An extractive digest entry in the article's own language."""
    units = segment(doc.text)
    lang = doc.source_lang or detect_lang(doc.text) or "en"
    ja = lang[:2].lower() in ("ja", "zh") if doc.source_lang else _is_ja(doc.text)
    lead = _lead_title(units)
    ioc_strings = [s for ioc in doc.iocs for s in (ioc.raw, ioc.value)]
    clean = _clean(units)
    bullets = _select(clean, doc.title or lead, ja, ioc_strings)
    sentences = [text for _, text in clean if len(text) >= 8]
    recommendations = _recommendations(sentences)
    other = _other(sentences, set(bullets) | set(recommendations))
    title = _WS.sub(" ", doc.title).strip() if doc.title and doc.title.strip() else ""
    if not title:
        title = _short_title(lead) if lead else (doc.url or "")
    return SummaryResult(
        title=title,
        bullets=bullets,
        recommendations=recommendations,
        other=other,
        model_recommendations=[],  # the offline engine has no opinion of its own
        section=Section.DAILY_NEWS,
        engine="offline",
        lang=lang,
        model=None,
    )


class OfflineEngine:
    """The embedded default engine: extractive, pure, no network."""

    name = "offline"

    async def summarize(self, doc: SummaryInput) -> SummaryResult:
        """Summarise without a model; cheap enough to run on the event loop."""
        return summarize_offline(doc)
