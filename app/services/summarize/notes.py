"""The digest's other fields, from the article's own sentences: recommendations and notes.

Recommendations are sentences that advise an action (patch, update, block, enable MFA,
推奨, 呼びかけ ...); the other notes are attribution, actor names and victims that the
bullets do not already carry. Nothing is written, only picked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.services.summarize.cues import CJK, Gated

MAX_RECOMMENDATIONS, MAX_OTHER = 5, 3

_I = re.IGNORECASE

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
_REC_STRONG = Gated(
    r"\b(?:recommend(?:s|ed|ing|ations?)?|urge[sd]?|urging|advised?|advises|advising|"
    r"encourage[sd]?|encouraging|best practices?)\b",
    ("recommend", "urg", "advis", "encourag", "best practice"),
    _I,
)
_REC_MODAL = Gated(
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
_ATTACKER_SUBJECT = Gated(
    rf"\b(?:{'|'.join(_ATTACKER_WORDS)})s?\b|攻撃者|マルウェア|グループ|ランサムウェア",
    (*_ATTACKER_WORDS, "攻撃者", "マルウェア", "グループ", "ランサムウェア"),
    _I,
)
_REC_JA = re.compile(
    r"推奨|呼びかけ|してください|ください|必要があり|必要がある|べき|勧め|勧告|望ましい|心がけ|"
    r"注意が必要|注意を促|注意するよう|よう求め|(?:利用|適用|変更|導入|確認|注意|対策)を求め|"
    r"お願いして|お願いします|お願いいたします|有効な対策|が有効(?:だ|です|である)(?:と|。)"
)
_REC_JA_ACTION = re.compile(r"適用|更新|アップデート|アップグレード|有効化|無効化|変更")
_REC_JA_OBJECT = re.compile(
    r"修正|パッチ|最新|セキュリティ|プログラム|バージョン|パスワード|多要素"
)
_COUNT = re.compile(r"\d")
_JA_QUOTED = re.compile(r"「[^「」]*」|『[^『』]*』")

# Attribution and the actor: strong phrases first, the generic "group"/"攻撃者" after.
_OTHER_JA = ("関与", "帰属", "国家", "支援を受け", "として追跡", "別名", "脅威アクター")
_OTHER_STRONG = Gated(
    r"\battribut(?:ed|es|ing|ion)\b|\b(?:linked|tied|connected) to\b|\btracked as\b(?! CVE-)|"
    r"\balso known as\b|\baka\b|\ba\.k\.a\.|"
    r"\b(?:state|government)-(?:sponsored|backed|linked|aligned)\b|\bnation-state\b|"
    r"\bthreat actors?\b|\bbehind the (?:attacks?|campaign|operation|breach|intrusion)\b|"
    + "|".join(_OTHER_JA),
    (
        "attribut", "linked to", "tied to", "connected to", "tracked as", "also known", "aka",
        "a.k.a", "apt", "state", "-sponsored", "-backed", "-linked", "-aligned", "threat actor",
        "behind", *_OTHER_JA,
    ),
)  # fmt: skip
# An actor's id: APT29, UNC2452, TA505, FIN7, Storm-0558.
_ACTOR_ID = re.compile(r"\b(?:APT ?-?\d+|(?:UNC|TA|FIN|Storm-|DEV-)\d{2,})\b")
_OTHER_WEAK = Gated(
    r"\b(?:(?i:hacking|hacker|threat|ransomware|cybercrime|cyber ?criminal|criminal|espionage|"
    r"extortion|APT|the|this|that)|[A-Z][\w-]+)\s+(?i:group|gang|crew|operators|cartel|syndicate)"
    r"s?\b|(?i:\boperators of\b|['’]s operators\b|\bthreat actor\b)|グループ|攻撃者|集団|アクター",
    (
        "group", "gang", "crew", "operator", "cartel", "syndicate", "threat actor", "グループ",
        "攻撃者", "集団", "アクター",
    ),
)  # fmt: skip
# Victims: who was hit and how many ("1.2 million customers", "約1,200社").
_VICTIM = Gated(
    r"\b(?:victims?|affected|customers|patients|employees|users|organi[sz]ations|companies)\b"
    r".{0,60}\b(?:notified|affected|impacted|exposed|stolen|compromised|hit|targeted)\b|"
    r"\b(?:notified|affected|impacted|targeted)\b.{0,40}\b(?:customers|patients|users|"
    r"organi[sz]ations|companies|victims)\b|被害を受け|被害者|影響を受け|対象となった|件の個人情報",
    (
        "victim",
        "affected",
        "customers",
        "patients",
        "employees",
        "users",
        "organi",
        "companies",
        "被害を受け",
        "被害者",
        "影響を受け",
        "対象となった",
        "件の個人情報",
    ),
    _I,
)


def is_recommendation(text: str) -> bool:
    """A sentence in the article's own voice that advises the reader to do something."""
    if _REC_STRONG.search(text) or _REC_START.match(text):
        return True
    modal = _REC_MODAL.search(text)
    if modal and not _ATTACKER_SUBJECT.search(text[: modal.start()]):
        return True
    if not CJK.search(text):
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


def recommendations(sentences: Sequence[str]) -> list[str]:
    """The article's advice, in document order, at most MAX_RECOMMENDATIONS."""
    return [s for s in sentences if is_recommendation(s)][:MAX_RECOMMENDATIONS]


def other_notes(sentences: Sequence[str], taken: set[str]) -> list[str]:
    """Attribution, actor and victim sentences not already used, in document order; strong
    ones (attribution, an actor's id) before weak ones (a "group"), victim counts last."""
    free = [s for s in sentences if s not in taken]
    picked: set[str] = set()
    for kind in (_strong, _weak, _victim):
        for s in free:
            if len(picked) >= MAX_OTHER:
                break
            if s not in picked and kind(s):
                picked.add(s)
    return [s for s in free if s in picked]


def _strong(text: str) -> bool:
    return bool(_ACTOR_ID.search(text) or _OTHER_STRONG.search(text))


def _weak(text: str) -> bool:
    return bool(_OTHER_WEAK.search(text))


def _victim(text: str) -> bool:
    # A victim note says how many: "1.2 million customers", "約2万8,000人".
    return bool(_COUNT.search(text) and _VICTIM.search(text))
