"""Which language a text is written in, told apart by script: enough for ja and en."""

from __future__ import annotations

import re

_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_lang(text: str, *, sample: int = 4000) -> str | None:
    """Return "ja", "en", "zh", "ko" or None when the text gives no clear answer.

    Kana is what separates Japanese from Chinese; a Japanese article is full of English
    product names, so a small share of kana is already decisive.
    """
    head = text[:sample]
    kana = len(_KANA.findall(head))
    han = len(_HAN.findall(head))
    hangul = len(_HANGUL.findall(head))
    latin = len(_LATIN.findall(head))
    if kana >= 5 and kana + han >= 0.05 * max(latin, 1):
        return "ja"
    if hangul >= 20:
        return "ko"
    if han >= 20 and han > latin:
        return "zh"
    if latin >= 20:
        return "en"
    return None
