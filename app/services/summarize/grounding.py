"""Grounding: what the model wrote may only name indicators the article itself contains.

The regex engine decides what the IOCs and CVE ids are; the model labels and comments.
Every text the model returns is scanned with the same regex engine (`find_iocs`), and a
value the source does not support is an invention:

* a sentence (bullet, recommendation, note) that names an invented indicator, CVE id or
  ATT&CK id is dropped whole. Cutting only the value would leave a sentence that still
  makes the false claim ("the loader beacons to  every hour") about something else;
* an invented value in the ``cves`` / ``attack_techniques`` lists is dropped from the list;
* a title naming an invented value falls back to the article's own title.

"Supported" is checked on refanged, case-folded values: an IOC the regex engine found in
the text (or the input's IOC list), the host of such a URL or e-mail address or a parent
domain of such a host, a URL that is a prefix of such a URL; a CVE id of the text; an
ATT&CK id that is an active Enterprise technique, or an obsolete one the article cites
(in a sentence, a technique-like token the article itself contains also passes).
Each drop is counted in ``dropped[kind]`` (kind: ioc, cve, attack_technique), logged as
``llm.grounding_dropped`` and counted by the GROUNDING_DROPPED metric.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.metrics import GROUNDING_DROPPED
from app.services.iocs import Ioc, IocType, defang, find_iocs
from app.services.summarize import attack
from app.services.summarize.base import SummaryInput
from app.services.summarize.llm_schema import DigestEntry

log = logging.getLogger("secdigest.summarize")

LOG_VALUE_CHARS = 80
_ID_KINDS = {IocType.CVE: "cve", IocType.ATTACK_TECHNIQUE: "attack_technique"}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the source supports: its indicators, CVE ids and cited technique ids."""

    iocs: tuple[Ioc, ...]  # network and hash indicators, in document order
    cves: tuple[str, ...]
    techniques: tuple[str, ...]
    # Every technique-id-like token the text contains, cited as ATT&CK or not.
    id_tokens: frozenset[str] = frozenset()
    _values: frozenset[str] = field(default=frozenset(), repr=False)
    _hosts: frozenset[str] = field(default=frozenset(), repr=False)
    _urls: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_doc(cls, doc: SummaryInput) -> Evidence:
        """The regex engine's view of the article: the input's IOCs and its own scan."""
        found: dict[tuple[IocType, str], Ioc] = {}
        texts = [doc.title or "", doc.text]
        for ioc in [*doc.iocs, *(i for t in texts if t for i in find_iocs(t))]:
            found.setdefault((ioc.type, ioc.value.casefold()), ioc)
        iocs = tuple(i for i in found.values() if i.type not in _ID_KINDS)
        cves = tuple(i.value.upper() for i in found.values() if i.type is IocType.CVE)
        techniques = tuple(
            attack.normalize_id(i.value)
            for i in found.values()
            if i.type is IocType.ATTACK_TECHNIQUE
        )
        values = frozenset(i.value.casefold() for i in iocs)
        urls = tuple(i.value.casefold() for i in iocs if i.type is IocType.URL)
        hosts: set[str] = set()
        for ioc in iocs:
            if ioc.type in (IocType.DOMAIN, IocType.IPV4, IocType.IPV6):
                hosts.add(ioc.value.casefold())
            elif ioc.type is IocType.EMAIL:
                hosts.add(ioc.value.rpartition("@")[2].casefold())
        hosts.update(h for u in urls if (h := _host(u)))
        tokens = frozenset(m for t in texts for m in attack.TECHNIQUE_ID.findall(t))
        return cls(iocs, cves, techniques, tokens, values, frozenset(hosts), urls)

    def supports(self, ioc: Ioc) -> bool:
        """Whether the source contains this value (or one it is plainly derived from)."""
        value = ioc.value.casefold()
        if ioc.type is IocType.CVE:
            return ioc.value.upper() in self.cves
        if ioc.type is IocType.ATTACK_TECHNIQUE:
            return self.technique_ok(ioc.value)
        if value in self._values:
            return True
        if ioc.type is IocType.DOMAIN:
            return value in self._hosts or any(h.endswith("." + value) for h in self._hosts)
        if ioc.type in (IocType.IPV4, IocType.IPV6):
            return value in self._hosts
        if ioc.type is IocType.URL:
            return any(u.startswith(value) for u in self._urls)
        return False

    def technique_ok(self, value: str) -> bool:
        """An active ATT&CK id, or a deprecated/revoked one the article itself cites."""
        tid = attack.normalize_id(value)
        return attack.is_active(tid) or (attack.lookup(tid) is not None and tid in self.id_tokens)

    def token_ok(self, token: str) -> bool:
        """A technique-like token in a sentence: a valid id, or a string the article has."""
        # The article's own strings pass: "T5200" may be a gateway's model number.
        return self.technique_ok(token) or token in self.id_tokens


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _kind(type_: IocType) -> str:
    return _ID_KINDS.get(type_, "ioc")


@dataclass(slots=True)
class Grounded:
    """The model's entry with every unsupported value removed, and what was removed."""

    title: str | None  # None: the title named an invented value
    bullets: list[str]
    recommendations: list[str]
    other: list[str]
    model_recommendations: list[str]
    cves: list[str]
    attack_techniques: list[str]
    dropped: dict[str, int]


class _Dropper:
    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self.counts: Counter[str] = Counter()

    def drop(self, kind: str, type_: str, value: str, where: str) -> None:
        self.counts[kind] += 1
        GROUNDING_DROPPED.labels(kind=kind).inc()
        shown = value if len(value) <= LOG_VALUE_CHARS else value[: LOG_VALUE_CHARS - 1] + "…"
        log.warning(
            "llm.grounding_dropped kind=%s type=%s field=%s value=%s", kind, type_, where, shown
        )

    def text_ok(self, text: str, where: str) -> bool:
        ok = True
        seen: set[str] = set()
        for ioc in find_iocs(text):
            if ioc.type is IocType.ATTACK_TECHNIQUE:
                continue  # checked below with every technique-like token
            if not self.evidence.supports(ioc):
                # Logged defanged: a log line is no place for a live invented URL.
                self.drop(_kind(ioc.type), ioc.type.value, defang(ioc.value, ioc.type), where)
                ok = False
        for token in attack.TECHNIQUE_ID.findall(text):
            if token not in seen and not self.evidence.token_ok(token):
                self.drop("attack_technique", "attack_technique", token, where)
                ok = False
            seen.add(token)
        return ok

    def texts(self, items: list[str], where: str) -> list[str]:
        return [t for t in items if self.text_ok(t, where)]


def ground(entry: DigestEntry, evidence: Evidence) -> Grounded:
    """Remove from ``entry`` every value the source does not support, counting each."""
    d = _Dropper(evidence)
    title = entry.title if d.text_ok(entry.title, "title") else None
    bullets = d.texts(entry.bullets, "bullets")
    recommendations = d.texts(entry.recommendations, "recommendations")
    other = d.texts(entry.other, "other")
    model_recommendations = d.texts(entry.model_recommendations, "model_recommendations")
    cves: list[str] = []
    for cve in entry.cves:
        if cve in evidence.cves:
            cves.append(cve)
        else:
            d.drop("cve", "cve", cve, "cves")
    techniques: list[str] = []
    for tid in entry.attack_techniques:
        if evidence.technique_ok(tid):
            techniques.append(attack.normalize_id(tid))
        else:
            d.drop("attack_technique", "attack_technique", tid, "attack_techniques")
    # The model labels which of the article's ids the entry is about; when it names none,
    # the regex engine's own findings stand (CVE ids of the text, known cited techniques).
    if not cves:
        cves = list(evidence.cves)
    if not techniques:
        techniques = [t for t in evidence.techniques if evidence.technique_ok(t)]
    return Grounded(
        title=title,
        bullets=bullets,
        recommendations=recommendations,
        other=other,
        model_recommendations=model_recommendations,
        cves=cves,
        attack_techniques=techniques,
        dropped=dict(d.counts),
    )
