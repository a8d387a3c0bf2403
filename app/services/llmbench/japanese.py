"""Japanese output (``--lang ja``): how much of a summary is in Japanese script, and
whether the CVE and ATT&CK ids of the article come out exactly as the article wrote them.

`ja_share(text)` is the Japanese script's share of the text's letters, once indicators,
ids, URLs and any token with a digit are removed (those are written in ASCII in any
language). Each kana or kanji is one unit and so is each word of another script: names
the prompt asks to keep as written ("Citrix NetScaler") are a few units among a hundred
characters, not 16 letters, so a Japanese entry full of them still scores about 0.95, an
English one 0.

`check_ids(source, output)`: each CVE / ATT&CK technique id the IOC engine finds in the
source is *verbatim* when its source spelling is in the output, *mangled* when the output
has it only after NFKC, case folding and dash folding (full-width digits ``２０２４``, a
lower-case ``cve-``, a long dash), and *absent* otherwise.

`check_names(source, output)`: the article's main names (products, vendors, actors: the
ASCII words it writes capitalised at least twice and never in lower case, `NetScaler`,
`APT29`, `Ivanti`; its five most frequent) and those the output keeps exactly as written, not
transliterated (`イヴァンティ`) or translated.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from app.services.iocs import IocType, find_iocs

_ID_TYPES = (IocType.CVE, IocType.ATTACK_TECHNIQUE)
# Hiragana, katakana (with the long mark and half-width forms), CJK ideographs and 々〆.
_JAPANESE = re.compile(
    r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]"
)
_URL = re.compile(r"(?:h..ps?|ftp)://\S+|\bwww\.\S+", re.IGNORECASE)
# A run of Latin letters, digits and id punctuation with a digit in it (half- or full-width):
# Japanese has no spaces, so the run stops at the first kana or kanji ("2024年" keeps 年).
_ID_CHAR = r"[0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a._:/\-\uff0d]"
_DIGIT_TOKEN = re.compile(rf"{_ID_CHAR}*[0-9\uff10-\uff19]{_ID_CHAR}*")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc\uff0d]")
_SPACE = re.compile(r"\s+")


def _strip_ascii_tokens(text: str) -> str:
    for ioc in find_iocs(text):
        text = text.replace(ioc.raw, " ")
    return _DIGIT_TOKEN.sub(" ", _URL.sub(" ", text))


def script_counts(text: str) -> tuple[int, int]:
    """(kana and kanji, those plus the words of other scripts) of ``text`` once ids, URLs
    and numbers are removed."""
    japanese = other = 0
    in_word = False
    for char in _strip_ascii_tokens(text):
        if char.isalpha() and _JAPANESE.match(char):
            japanese += 1
            in_word = False
        elif char.isalpha():
            other += 0 if in_word else 1
            in_word = True
        else:
            in_word = char in "'’-" and in_word
    return japanese, japanese + other


def ja_share(text: str) -> float | None:
    """Japanese units over all units (kana, kanji, other words); None with no letters."""
    japanese, letters = script_counts(text)
    return japanese / letters if letters else None


def _fold(text: str) -> str:
    folded = _DASHES.sub("-", unicodedata.normalize("NFKC", text)).casefold()
    return _SPACE.sub(" ", folded)


@dataclass(frozen=True, slots=True)
class IdCheck:
    """The article's CVE / ATT&CK ids and how the output wrote each of them."""

    ids: tuple[str, ...]  # as the IOC engine normalises them (CVE-2024-3400, T1059.001)
    verbatim: tuple[str, ...]
    mangled: tuple[str, ...]

    @property
    def share(self) -> float | None:
        """Share of the source's ids the output has verbatim; None when the source has none."""
        return len(self.verbatim) / len(self.ids) if self.ids else None


def source_ids(text: str) -> dict[str, set[str]]:
    """{normalised id: every spelling of it in the text} for its CVE and technique ids."""
    found: dict[str, set[str]] = {}
    for ioc in find_iocs(text):
        if ioc.type in _ID_TYPES:
            spellings = found.setdefault(ioc.value, {ioc.raw})
            # The engine keeps the first spelling; any other one the text uses counts too.
            pattern = re.compile(re.escape(ioc.value), re.IGNORECASE)
            spellings.update(m.group(0) for m in pattern.finditer(text))
    return found


def _mentions(output: str, spelling: str) -> bool:
    # Not a prefix of a longer id: T1059 is not mentioned by "T1059.001", CVE-2024-1 not by -12.
    return re.search(re.escape(spelling) + r"(?![0-9.])", output) is not None


def check_ids(source: str, output: str) -> IdCheck:
    """How the output wrote each CVE / ATT&CK id of the source."""
    ids = source_ids(source)
    folded = _fold(output)
    verbatim, mangled = [], []
    for value, spellings in ids.items():
        if any(_mentions(output, s) for s in spellings):
            verbatim.append(value)
        elif re.search(re.escape(value.casefold()) + r"(?![0-9.])", folded):
            mangled.append(value)
    return IdCheck(tuple(ids), tuple(verbatim), tuple(mangled))


# An ASCII word that starts with a capital or holds a digit after letters (APT29, NetScaler).
_NAME_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9]{2,}(?![A-Za-z0-9])")
_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?![A-Za-z0-9])")
MAIN_NAMES = 5


@dataclass(frozen=True, slots=True)
class NameCheck:
    """The article's main names and those the output writes exactly as the article does."""

    names: tuple[str, ...]
    verbatim: tuple[str, ...]

    @property
    def share(self) -> float | None:
        """Share of the main names the output keeps verbatim; None when the article has none."""
        return len(self.verbatim) / len(self.names) if self.names else None


def main_names(text: str, limit: int = MAIN_NAMES) -> tuple[str, ...]:
    """The ``limit`` most frequent capitalised ASCII words that the text never writes in lower
    case (sentence-initial "The" is also "the" elsewhere: no name), at least twice."""
    lower = {word for word in _WORD.findall(text) if word.islower()}
    # All-capital words are mostly acronyms (VPN, SSL) unless they hold a digit (APT29).
    counts = Counter(
        word
        for word in _NAME_WORD.findall(text)
        if word.lower() not in lower and (not word.isupper() or any(c.isdigit() for c in word))
    )
    ranked = sorted((n for n, c in counts.items() if c >= 2), key=lambda n: (-counts[n], n))
    return tuple(ranked[:limit])


def check_names(source: str, output: str) -> NameCheck:
    """Which of the source's main names the output writes verbatim (case and script kept)."""
    names = main_names(source)
    kept = tuple(
        name
        for name in names
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", output)
    )
    return NameCheck(names, kept)
