# ruff: noqa: RUF001 - Chinese text is this module's data.
"""Words of a learner's text, English or Chinese, in one comparable form.

Analysis (was a question answered?), consolidation (which sentences share ideas?)
and the embedder (which texts are alike?) all compare texts by their words, so the
cutting and normalising lives here once. Chinese is segmented by the tutor's rjieba
segmenter and English words are folded with the tutor's suffix stripper, so the
pipeline and the tutor agree on what a word is.
"""

from __future__ import annotations

import functools
import re

from domain.tutor import lexicon, segmenter
from domain.tutor.language import detect_language
from domain.tutor.models import Language

_EN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’-][A-Za-z0-9]+)*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# The most frequent English words are function words ("the", "because", "think"): they say
# nothing about the subject. Rank 150 of wordfreq's list is where "time" and "people" begin.
_EN_STOP_RANK = 150
# jieba tags of words that carry meaning: nouns, verbs, adjectives, fixed phrases, idioms,
# abbreviations, English inside Chinese. Pronouns, particles, adverbs and conjunctions do not.
_ZH_CONTENT_TAGS = ("n", "v", "a", "l", "i", "j", "eng")
# Frequent verbs and nouns that jieba tags as content but that only hold a sentence together.
_ZH_STOP = frozenset(
    {"就是", "是", "有", "能", "会", "要", "说", "可以", "没有", "东西", "时候", "知道", "觉得", "应该",
     "一个", "这样", "那样", "进行", "成为", "需要", "出来", "起来", "使用", "用", "做", "让", "叫", "像"}
)  # fmt: skip


def words(text: str, language: Language | None = None) -> list[str]:
    """Every word of ``text``, in order: English lower-cased, Chinese as segmented."""
    language = language or detect_language(text)
    if language == "zh":
        return [w.lower() if w.isascii() else w for w, pos in segmenter.tag(text) if pos != "x" and w.strip()]
    return [w.lower() for w in _EN_WORD.findall(text)]


def content_words(text: str, language: Language | None = None) -> list[str]:
    """The words that carry meaning, normalised so inflections meet ("pulls" ~ "pull")."""
    language = language or detect_language(text)
    if language == "zh":
        return [_zh_key(w) for w, pos in segmenter.tag(text) if _zh_content(w, pos)]
    found = []
    for word in _EN_WORD.findall(text):
        key = normalise_en(word)
        if len(key) > 1 and not _en_stop(key):
            found.append(key)
    return found


def han_count(text: str) -> int:
    """Chinese characters in ``text``: the unit of Chinese sentence length."""
    return len(_HAN.findall(text))


@functools.lru_cache(maxsize=65536)
def normalise_en(word: str) -> str:
    """One spelling per English word: a listed base form if the tutor's stripper finds one.

    "falls" → "fall", "heavier" → "heavy"; a rare word loses only a plural "s"
    ("chloroplasts" → "chloroplast") so that "photosynthesis" stays whole.
    """
    lowered = word.lower().replace("’", "'")
    if lowered.endswith("'s"):
        lowered = lowered[:-2]
    ranks = lexicon.en_common()
    rank = ranks.get(lowered)
    if rank is not None and (rank < _EN_STOP_RANK or not lowered.endswith("s")):
        return lowered
    # A listed plural still meets its singular ("objects" ~ "object"); other listed
    # words stay as they are, since stripping "-ing" from "evening" would make "even".
    forms = lexicon.base_forms(lowered)[1:]
    for form in forms if rank is None else [f for f in forms if f + "s" == lowered or f + "es" == lowered]:
        if form in ranks:
            return form
    if rank is not None:
        return lowered
    if len(lowered) > 4 and lowered.endswith("s") and not lowered.endswith(("ss", "is", "us")):
        return lowered[:-1]
    return lowered


def _en_stop(key: str) -> bool:
    rank = lexicon.en_common().get(key)
    return rank is not None and rank < _EN_STOP_RANK


def _zh_content(word: str, pos: str) -> bool:
    if not pos.startswith(_ZH_CONTENT_TAGS) or word in _ZH_STOP:
        return False
    if word.isascii():
        return len(word) > 1 and not _en_stop(normalise_en(word))
    # A single character is a word only as a noun (水, 光); a lone verb (吸, 跑) is too vague.
    return len(word) >= 2 or pos.startswith("n")


def _zh_key(word: str) -> str:
    return normalise_en(word) if word.isascii() else word
