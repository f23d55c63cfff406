"""Conversation analysis: how clear one explanation is, and how a learner progresses.

Feynman's test of understanding is an explanation a child could follow: short plain
sentences, no unexplained jargon, no hand-waving, an example, a "because", and the
questions asked last time actually answered. :func:`analyse` measures each of these
on one turn with the tutor's own detectors (so the report and the tutor's questions
never disagree) and folds them into a 0-100 clarity score; :func:`fold_progress`
keeps a learner's running picture. Both are pure and deterministic, so a replayed
turn gives the same report. Formulas and weights: docs/analysis.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from domain import readability
from domain.answers import QuestionCoverage, coverage
from domain.tutor import markers
from domain.tutor.findings import find_no_cause, find_vague
from domain.tutor.language import detect_language, has_words
from domain.tutor.models import Language
from domain.tutor.terms import find_terms
from domain.tutor.text import make_document
from domain.words import words

# Weights of the clarity parts. Jargon weighs most: borrowed words are the Feynman
# technique's first sign of borrowed understanding. "answered" only counts when the
# tutor asked something before; otherwise the other weights are rescaled to sum to 1.
WEIGHTS: Mapping[str, float] = {
    "readability": 0.20,
    "jargon": 0.25,
    "precision": 0.15,
    "example": 0.15,
    "causality": 0.15,
    "answered": 0.10,
}
# Each unexplained term per 100 words costs 12.5 points (8 per 100 words: nothing left);
# each distinct hedge 25; each effect stated without a cause 25, down to 25 while some
# "because" is there at all.
JARGON_PENALTY = 12.5
HEDGE_PENALTY = 25.0
MISSING_CAUSE_PENALTY = 25.0


@dataclass(frozen=True)
class QualityReport:
    """Everything measured on one explanation, and the clarity score built from it."""

    language: Language
    sentence_count: int
    word_count: int
    avg_sentence_length: float
    long_word_share: float
    readability_index: float
    readability: float
    unexplained_terms: tuple[str, ...]
    explained_terms: tuple[str, ...]
    jargon_density: float
    hedges: tuple[str, ...]
    has_example: bool
    causal_links: int
    effects_without_cause: int
    questions: tuple[QuestionCoverage, ...]
    answered_share: float | None
    clarity: float
    clarity_parts: Mapping[str, float] = field(default_factory=dict)

    @property
    def hedge_count(self) -> int:
        """Distinct hedges ("kind of", "大概"): one per spot where the learner waves a hand."""
        return len(self.hedges)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (lists and dicts), for tables, result topics and the web view."""
        data = asdict(self)
        for key in ("unexplained_terms", "explained_terms", "hedges"):
            data[key] = list(data[key])
        data["questions"] = [q.to_dict() for q in self.questions]
        data["clarity_parts"] = dict(self.clarity_parts)
        data["hedge_count"] = self.hedge_count
        return data


def analyse(
    explanation: str,
    *,
    topic: str,
    previous_questions: Sequence[str] = (),
    earlier_explanations: Sequence[str] = (),
) -> QualityReport:
    """The quality report of one learner turn.

    ``previous_questions`` are the tutor's questions of the turn before (were they
    answered?); ``earlier_explanations`` are the learner's earlier turns, where a
    term may already have been explained.
    """
    language = detect_language(explanation if has_words(explanation) else topic)
    doc = make_document(explanation, language)
    word_count = len(words(explanation, language))
    read = readability.measure(doc)
    terms = find_terms(doc, topic, earlier_explanations)
    unexplained = tuple(t.text for t in terms if not t.explained)
    jargon_density = round(100 * len(unexplained) / word_count, 2) if word_count else 0.0
    hedges = tuple(f.evidence for f in find_vague(doc))
    example = markers.ZH_EXAMPLE if language == "zh" else markers.EN_EXAMPLE
    cause = markers.ZH_CAUSE if language == "zh" else markers.EN_CAUSE
    causal_links = len(cause.findall(explanation))
    missing_causes = len(find_no_cause(doc, topic)) if causal_links else 0
    questions = tuple(coverage(q, explanation, topic, unexplained) for q in previous_questions)
    answered_share = round(sum(q.answered for q in questions) / len(questions), 3) if questions else None
    has_example = bool(example.search(explanation))
    parts = {
        "readability": read.score,
        "jargon": _floor(100 - JARGON_PENALTY * jargon_density),
        "precision": _floor(100 - HEDGE_PENALTY * len(hedges)),
        "example": 100.0 if has_example else 0.0,
        "causality": max(25.0, 100 - MISSING_CAUSE_PENALTY * missing_causes) if causal_links else 0.0,
    }
    if answered_share is not None:
        parts["answered"] = 100 * answered_share
    parts = {k: round(v, 1) for k, v in parts.items()}
    if not word_count:
        parts = dict.fromkeys(parts, 0.0)
    return QualityReport(
        language=language,
        sentence_count=len(doc.sentences),
        word_count=word_count,
        avg_sentence_length=read.avg_sentence_length,
        long_word_share=read.long_word_share,
        readability_index=read.index,
        readability=parts["readability"],
        unexplained_terms=unexplained,
        explained_terms=tuple(t.text for t in terms if t.explained),
        jargon_density=jargon_density,
        hedges=hedges,
        has_example=has_example,
        causal_links=causal_links,
        effects_without_cause=missing_causes,
        questions=questions,
        answered_share=answered_share,
        clarity=clarity_score(parts),
        clarity_parts=parts,
    )


def clarity_score(parts: Mapping[str, float]) -> float:
    """The weighted mean of the parts present, 0-100, one decimal."""
    total = sum(WEIGHTS[k] for k in parts)
    return round(sum(WEIGHTS[k] * v for k, v in parts.items()) / total, 1) if total else 0.0


def _floor(value: float) -> float:
    return max(0.0, value)
