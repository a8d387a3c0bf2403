"""The offline (extractive) engine: picks the article's most informative sentences, no model.

It is the embedded default when no LLM is configured, so it writes in the article's own
language and never invents text: every bullet, recommendation and note is a sentence of
the article, trimmed. How a sentence is scored (weights in `Weights`):

* where it stands: the lede first, a "Summary"/"Conclusion" section up, an IOC appendix down;
* what it shares with the title and with the rest of the text (frequent content terms);
* the who/what/how of a security story: actors, malware, flaws, victims, CVEs and IOCs
  (the IOCs the input carries; the digest lists them apart, so they count a little);
* the author's own cue phrases ("we discovered", "this report", "dubbed ...");
* its length: long sentences buy ROUGE with words, so they pay for every word past 30.

Page furniture (captions, share lines, bylines, dates alone, PDF page headers that repeat
on every page) is never a candidate. Bullets are kept in document order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from app.services.extract.lang import detect_lang
from app.services.summarize import cues
from app.services.summarize.base import SummaryInput, SummaryResult
from app.services.summarize.classify import classify_section
from app.services.summarize.notes import other_notes, recommendations
from app.services.summarize.sentences import Sentence, segment

MIN_BULLETS, MAX_BULLETS = 3, 6
BULLET_CHARS = 300
TITLE_CHARS = 120
_REDUNDANT = 0.5  # Jaccard at or above which two sentences say the same
_CONTAINED = 0.8  # share of the smaller sentence found in the bigger one
_REPEAT_N, _REPEAT_MIN = 8, 3  # an 8-word run found in 3+ sentences is a page header/footer

_WS = re.compile(r"\s+")
_EN_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
_JA_TERM = re.compile(r"[ァ-ヴー]{2,}|[A-Za-z][A-Za-z0-9.-]*[A-Za-z0-9]|[一-龥々]{2,}")
_KANJI_RUN = re.compile(r"[一-龥々]{2,}")
_NON_TEXT = re.compile(r"[\s\W_]+")
# A word of prose: letters with at most a quote, bracket or punctuation mark around them.
_PROSE_WORD = re.compile(r"[\"'“‘(\[]?[A-Za-z][A-Za-z'’-]*[\"'”’)\],.;:!?]*")
_MIN_PROSE = 0.6
# Leftovers inside a sentence: "(see Figure 2)", "(Figure 3)", citation marks "[8]".
_INLINE_JUNK = re.compile(
    r"\s*\((?:see |as shown in )?(?:figure|fig\.|table)\s*\d+[a-z]?\)|(?<=[a-z,.])\[\d{1,2}\]", re.I
)


@dataclass(frozen=True, slots=True)
class Weights:
    """What each signal is worth; tuned on half of the cti_blog benchmark set."""

    position: float = 0.9
    position_decay: float = 1.5  # candidates until the lede bonus halves
    title: float = 0.8
    centrality: float = 1.6
    security: float = 0.3
    artefact: float = 0.2
    cue: float = 0.3
    summary_heading: float = 0.8
    appendix_heading: float = 0.8
    long_from: int = 30  # words; every word past it costs `per_word`
    per_word: float = 0.02
    short_below: int = 6
    short: float = 0.25


WEIGHTS = Weights()


@dataclass(slots=True)
class _Candidate:
    unit: Sentence
    text: str
    terms: frozenset[str]  # content words: for centrality and the title bonus
    keys: frozenset[str]  # what redundancy is measured on
    opens_paragraph: bool
    heading: str  # the heading the sentence sits under ("" before the first)
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
        return frozenset(
            _stem(w) for w in _EN_WORD.findall(text.lower()) if w not in cues.STOP_WORDS
        )
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
    if cues.CJK.search(text):
        return 1.0
    tokens = text.split()
    return sum(1 for t in tokens if _PROSE_WORD.fullmatch(t)) / max(len(tokens), 1)


def trim(text: str, limit: int = BULLET_CHARS) -> str:
    """Collapse whitespace and cut at a word (or, in Japanese, a character) boundary."""
    text = _WS.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cues.CJK.search(cut[-20:]):
        comma = cut.rfind("、")
        if comma >= limit * 0.7:
            cut = cut[:comma]
    elif " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:、，") + "…"


def tidy(text: str) -> str:
    """A sentence without its leftovers: a leading page number or "Figure 3", "(see Figure
    2)", citation marks; then trimmed."""
    text = cues.LEADING_JUNK.sub("", text.strip())
    return trim(_INLINE_JUNK.sub("", text))


def _bullet_count(size: int) -> int:
    """3 bullets for a brief, one more per step up in length, 6 for a long report."""
    return min(MIN_BULLETS + sum(size >= step for step in (200, 450, 900)), MAX_BULLETS)


def _security_signals(text: str, ja: bool) -> int:
    low = text.lower()
    found = len({w[:6] for w in _EN_WORD.findall(low) if w.startswith(cues.SECURITY_STEMS)})
    return found + (len(set(cues.SECURITY_JA.findall(text))) if ja else 0)


def _rank(
    cands: Sequence[_Candidate],
    title: str | None,
    ja: bool,
    ioc_strings: Iterable[str],
    w: Weights | None = None,
) -> None:
    """Give every candidate its score (see the module docstring)."""
    w = w or WEIGHTS
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
        overlap = len(c.terms & title_terms) / min(max(len(title_terms), 1), 6)
        artefact = bool(cues.CVE.search(text)) or any(s in low for s in iocs)
        score = (
            w.position / (1.0 + i / w.position_decay)
            + w.title * min(overlap, 1.0)
            + w.centrality * centrality[i] / top
            + w.security * min(_security_signals(text, ja), 3) / 3
            + w.artefact * artefact
            + w.cue * bool(cues.SUMMARY_CUE.search(text))
        )
        if c.heading and cues.SUMMARY_HEADING.search(c.heading):
            score += w.summary_heading
        elif c.heading and cues.APPENDIX_HEADING.search(c.heading):
            score -= w.appendix_heading
        score -= w.per_word * max(size - w.long_from, 0)
        if size < w.short_below:
            score -= w.short
        if text.endswith((":", "：")):
            score -= 0.4  # it introduces a list the bullet would not carry
        if text.endswith(("?", "？")):
            score -= 0.3
        if cues.CONNECTIVE.match(text):
            score -= 0.1  # leans on the sentence before it
        if c.opens_paragraph:
            score += 0.1
        c.score = score


def _repeated_runs(units: Sequence[Sentence], ja: bool) -> set[int]:
    """Indexes of units that share a long run of words (Japanese: characters) with at least
    two other units: running page headers and footers of a PDF, a repeated disclaimer."""
    n = _REPEAT_N * 2 if ja else _REPEAT_N
    seen: dict[tuple[str, ...], set[int]] = {}
    for u in units:
        toks: Sequence[str] = _NON_TEXT.sub("", u.text) if ja else u.text.lower().split()
        for gram in zip(*(toks[k:] for k in range(n)), strict=False):
            seen.setdefault(gram, set()).add(u.index)
    out: set[int] = set()
    for where in seen.values():
        if len(where) >= _REPEAT_MIN:
            out |= where
    # Furniture is the exception; when most of the text repeats, the repetition is the text.
    return out if len(out) <= len(units) / 2 else set()


def _clean(units: Sequence[Sentence]) -> list[tuple[Sentence, str]]:
    """Sentences and list items, tidied, without headings, page furniture or repeats."""
    out: list[tuple[Sentence, str]] = []
    seen: set[str] = set()
    for u in units:
        if u.heading or cues.is_boilerplate(u.text):
            continue
        text = tidy(u.text)
        if not text or text in seen or (text != u.text and cues.is_boilerplate(text)):
            continue
        seen.add(text)
        out.append((u, text))
    return out


def _candidates(
    units: Sequence[Sentence], clean: Sequence[tuple[Sentence, str]], ja: bool
) -> tuple[list[_Candidate], list[_Candidate]]:
    """Split the sentences into good candidates and a reserve of short ones for tiny texts."""
    under: list[str] = []  # the heading each unit sits under
    for u in units:
        under.append(u.text if u.heading else (under[-1] if under else ""))
    repeated = _repeated_runs(units, ja)
    good: list[_Candidate] = []
    reserve: list[_Candidate] = []
    paragraph = -1
    for u, text in clean:
        opens, paragraph = u.paragraph != paragraph, u.paragraph
        heading = under[u.index]
        if _prose_share(text) < _MIN_PROSE or u.index in repeated:
            continue  # code, an IOC list, a page header: no summary, even of a short text
        terms = _terms(text, ja)
        keys = _bigrams(text) if ja else terms
        cand = _Candidate(u, text, terms, keys, opens, heading)
        if u.fragment or _size(text, ja) < 6 or not terms:
            reserve.append(cand)
        else:
            good.append(cand)
    return good, reserve


def _select(
    units: Sequence[Sentence],
    title: str | None,
    ja: bool,
    ioc_strings: Iterable[str] = (),
    clean: Sequence[tuple[Sentence, str]] | None = None,
) -> list[str]:
    """The bullets: the best-scoring sentences, no two alike, in document order."""
    good, reserve = _candidates(units, _clean(units) if clean is None else clean, ja)
    want = _bullet_count(sum(_size(c.text, ja) for c in good + reserve))
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
    return _select(units, _lead_title(units), _is_ja(text))


def _lead_title(units: Sequence[Sentence]) -> str | None:
    """The text's own title: a heading on its first line, else its first sentence."""
    for u in units:
        if not cues.is_boilerplate(u.text):
            return u.text
    return None


def _short_title(text: str) -> str:
    title = trim(text, TITLE_CHARS)
    # A sentence used as a title keeps no full stop; "U.S." and "…" stay as they are.
    if title.endswith("。") or (title.endswith(".") and not title.endswith("..")):
        title = title[:-1]
    return title


def summarize_offline(doc: SummaryInput) -> SummaryResult:
    """An extractive digest entry in the article's own language, every field filled."""
    units = segment(doc.text)
    lang = doc.source_lang or detect_lang(doc.text) or "en"
    ja = lang[:2].lower() in ("ja", "zh") if doc.source_lang else _is_ja(doc.text)
    lead = _lead_title(units)
    ioc_strings = [s for ioc in doc.iocs for s in (ioc.raw, ioc.value)]
    clean = _clean(units)
    bullets = _select(units, doc.title or lead, ja, ioc_strings, clean)
    sentences = [text for _, text in clean if len(text) >= 8]
    advice = recommendations(sentences)
    other = other_notes(sentences, set(bullets) | set(advice))
    title = _WS.sub(" ", doc.title).strip() if doc.title and doc.title.strip() else ""
    if not title:
        title = _short_title(lead) if lead else (doc.url or "")
    section = classify_section(title, doc.text, lang=lang, iocs=doc.iocs)
    return SummaryResult(
        title=title,
        bullets=bullets,
        recommendations=advice,
        other=other,
        model_recommendations=[],  # the offline engine has no opinion of its own
        section=section,
        engine="offline",
        lang=lang,
        model=None,
        # Ids found by the regex engine; the offline engine knows no ATT&CK names to add.
        cves=[ioc.value for ioc in doc.iocs if ioc.type.value == "cve"],
        attack_techniques=[ioc.value for ioc in doc.iocs if ioc.type.value == "attack_technique"],
    )


class OfflineEngine:
    """The embedded default engine: extractive, pure, no network."""

    name = "offline"
    model: str | None = None
    prompt_version: str | None = None

    async def summarize(self, doc: SummaryInput) -> SummaryResult:
        """Summarise without a model; cheap enough to run on the event loop."""
        return summarize_offline(doc)
