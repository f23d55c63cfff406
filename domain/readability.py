"""Readability suited to the language: LIX for English, its Chinese analogue for Chinese.

Flesch-style scores count syllables, which Chinese does not have and English spells
badly; LIX (Björnsson, 1968) needs only sentence length and the share of long words
(more than six letters), and is used across many languages. Chinese takes the same
shape in its own units: sentence length in characters, and the share of words outside
the 10,000 most frequent (the tutor's common list), since long Chinese words are not
what makes Chinese hard. Either index maps to a 0-100 score, 100 the easiest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.tutor import lexicon
from domain.tutor.text import Document
from domain.words import han_count, words

_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
# LIX below 20 reads like a children's book (score 100), above 60 like a legal text (0).
EN_EASY, EN_HARD = 20.0, 60.0
# The Chinese analogue, set on the fixture corpus: 15 characters a sentence with 5% rare
# words (20) reads easily; 45 characters with 25% rare words (70) is a textbook.
ZH_EASY, ZH_HARD = 20.0, 70.0
_LONG_EN_WORD = 6


@dataclass(frozen=True)
class Readability:
    """Sentence length (English words, Chinese characters), long-word share, index, and 0-100 score."""

    avg_sentence_length: float
    long_word_share: float
    index: float
    score: float


def measure(doc: Document) -> Readability:
    """The readability of a cut explanation, in its language's units."""
    sentences = max(1, len(doc.sentences))
    if doc.language == "zh":
        length = han_count(doc.text) / sentences
        han_words = [w for w in words(doc.text, "zh") if _HAN_WORD.fullmatch(w)]
        rare = sum(1 for w in han_words if lexicon.is_rare_zh(w))
        share = rare / len(han_words) if han_words else 0.0
        easy, hard = ZH_EASY, ZH_HARD
    else:
        tokens = words(doc.text, "en")
        length = len(tokens) / sentences
        share = sum(1 for w in tokens if len(w) > _LONG_EN_WORD) / len(tokens) if tokens else 0.0
        easy, hard = EN_EASY, EN_HARD
    index = length + 100 * share
    score = min(100.0, max(0.0, 100 * (hard - index) / (hard - easy)))
    return Readability(round(length, 2), round(share, 3), round(index, 2), round(score, 1))
