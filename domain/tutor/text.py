# ruff: noqa: RUF001 - Chinese text and typographic quotes are this module's data.
"""Cutting an explanation into sentences and clauses, and trimming quotes for questions.

Every detector needs the same pieces, so the explanation is cut once per call into a
:class:`Document` and the detectors read that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.tutor.models import Language

_ELLIPSIS = "…"
_EN_MAX_WORDS = 12
_ZH_MAX_CHARS = 20

# A dot inside "e.g.", "etc." or "9.8" does not end a sentence: such dots are masked
# (same length, so spans still index the original text) before splitting.
_EN_ABBREVIATION = re.compile(
    r"\b(?:e\.g|i\.e|vs|mr|mrs|ms|dr|approx|cf)\.|\betc\.(?!\s+(?-i:[A-Z]))", re.IGNORECASE
)
_DECIMAL_DOT = re.compile(r"(?<=\d)\.(?=\d)")
_EN_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_ZH_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
_EN_CLAUSE_SPLIT = re.compile(r"[,;:()]|\s[-–—]+\s")
_ZH_CLAUSE_SPLIT = re.compile(r"[，,；;：:（）()]")
_EN_WORD = re.compile(r"\S+")
_TRAILING = " \t\r\n.,;:!?。，；：！？、…\"'”’)）"
_LEADING = " \t\r\n,;:，；：、\"'“‘(（"
_EN_MIN_CLAIM_WORDS = 4
_ZH_MIN_CLAIM_CHARS = 5
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class Sentence:
    """A sentence as written, where it starts in the explanation, and whether it asks."""

    text: str
    start: int
    is_question: bool

    @property
    def end(self) -> int:
        """Offset just past the sentence."""
        return self.start + len(self.text)


@dataclass(frozen=True)
class Document:
    """An explanation cut once, shared by all detectors."""

    text: str
    language: Language
    sentences: tuple[Sentence, ...]

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence that holds a character offset (detectors find matches in the whole text)."""
        for sentence in self.sentences:
            if sentence.start <= offset < sentence.end:
                return sentence
        return None

    def claims(self) -> list[Sentence]:
        """Sentences that state something: not questions, and long enough to mean something."""
        return [s for s in self.sentences if not s.is_question and is_claim(s.text, self.language)]


def make_document(text: str, language: Language) -> Document:
    """Cut ``text`` into sentences; the rest of the tutor reads only this."""
    return Document(text=text, language=language, sentences=tuple(split_sentences(text, language)))


def split_sentences(text: str, language: Language) -> list[Sentence]:
    """Sentences with their offsets, trimmed of surrounding blanks."""
    if language == "zh":
        pattern, masked = _ZH_SENTENCE, text
    else:
        masked = _EN_ABBREVIATION.sub(lambda m: m.group(0).replace(".", "\x00"), text)
        masked = _DECIMAL_DOT.sub("\x00", masked)
        pattern = _EN_SENTENCE
    sentences = []
    for match in pattern.finditer(masked):
        raw = text[match.start() : match.end()]
        stripped = raw.strip()
        if not stripped or not any(ch.isalnum() for ch in stripped):
            continue
        start = match.start() + (len(raw) - len(raw.lstrip()))
        asks = stripped.endswith(("?", "？")) or (language == "zh" and stripped.rstrip("。").endswith("吗"))
        sentences.append(Sentence(text=stripped, start=start, is_question=asks))
    return sentences


def is_claim(sentence: str, language: Language) -> bool:
    """Long enough to be a statement worth asking about (not "Yes." or "I don't know")."""
    if language == "zh":
        return len(_HAN.findall(sentence)) >= _ZH_MIN_CLAIM_CHARS
    return len(_EN_WORD.findall(sentence)) >= _EN_MIN_CLAIM_WORDS


def clause_around(sentence: str, index: int, language: Language) -> str:
    """The clause of ``sentence`` holding character ``index``; the whole sentence if that clause is thin.

    A hedge like "etc." often sits alone after a comma: quoting just "etc." would tell the
    learner nothing, so a clause that is little more than the hedge gives way to the sentence.
    """
    pattern = _ZH_CLAUSE_SPLIT if language == "zh" else _EN_CLAUSE_SPLIT
    start = 0
    for match in pattern.finditer(sentence):
        if match.start() > index:
            clause = sentence[start : match.start()]
            break
        start = match.end()
    else:
        clause = sentence[start:]
    if not is_claim(clause, language) and not _half_a_claim(clause, language):
        return sentence
    return clause


def _half_a_claim(clause: str, language: Language) -> bool:
    if language == "zh":
        return len(_HAN.findall(clause)) >= 4
    return len(_EN_WORD.findall(clause)) >= 3


def quote(text: str, language: Language, focus: str | None = None) -> str:
    """``text`` made short enough to quote inside a question, kept around ``focus`` if given.

    Quotes are the learner's own words, verbatim, so they recognise them; long ones are
    cut to a window (12 words, or 20 Chinese characters) with "…" where something was left out.
    """
    text = text.strip(_TRAILING).lstrip(_LEADING)
    text = re.sub(r"\s+", " ", text)
    if language == "zh":
        return _window_chars(text, focus)
    return _window_words(text, focus)


def _window_words(text: str, focus: str | None) -> str:
    words = text.split(" ")
    if len(words) <= _EN_MAX_WORDS:
        return text
    start = 0
    if focus:
        at = text.lower().find(focus.lower())
        if at >= 0:
            focus_word = text[:at].count(" ")
            start = max(0, min(focus_word - 4, len(words) - _EN_MAX_WORDS))
    end = start + _EN_MAX_WORDS
    piece = " ".join(words[start:end]).rstrip(_TRAILING)
    return (_ELLIPSIS if start > 0 else "") + piece + (_ELLIPSIS if end < len(words) else "")


def _window_chars(text: str, focus: str | None) -> str:
    if len(text) <= _ZH_MAX_CHARS:
        return text
    start = 0
    if focus:
        at = text.find(focus)
        if at >= 0:
            start = max(0, min(at - 6, len(text) - _ZH_MAX_CHARS))
    end = start + _ZH_MAX_CHARS
    piece = text[start:end].strip(_TRAILING)
    return (_ELLIPSIS if start > 0 else "") + piece + (_ELLIPSIS if end < len(text) else "")
