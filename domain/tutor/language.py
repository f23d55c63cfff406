"""Which language the learner writes in, so the questions come back in the same one."""

from __future__ import annotations

import re

from domain.tutor.models import Language

# CJK Unified Ideographs and Extension A: enough for simplified and traditional Chinese.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_language(text: str) -> Language:
    """``"zh"`` when Han characters are at least as many as Latin words, else ``"en"``.

    Characters are weighed against words on purpose: a Chinese word is one to three
    characters, so a Chinese explanation sprinkled with English jargon ("TCP 的三次握手
    就是 SYN、ACK") stays Chinese, while an English one quoting a Chinese term
    ("光合作用 is how plants eat") stays English. Text with neither is ``"en"``.
    """
    han = len(_HAN.findall(text))
    if han == 0:
        return "en"
    return "zh" if han >= len(_LATIN_WORD.findall(text)) else "en"


def has_words(text: str) -> bool:
    """Whether the text holds anything to read (a letter or a Han character)."""
    return bool(_HAN.search(text) or _LATIN_WORD.search(text))
