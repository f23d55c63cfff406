# ruff: noqa: RUF001 - Chinese text is this module's data.
"""``ask``: from a topic, an explanation and the memory, the questions a curious student would ask."""

from __future__ import annotations

from collections.abc import Sequence

from domain.tutor import lexicon, segmenter
from domain.tutor.contradictions import find_contradictions
from domain.tutor.findings import find_no_cause, find_no_example, find_vague
from domain.tutor.language import detect_language, has_words
from domain.tutor.memory import asked_questions, earlier_explanations
from domain.tutor.models import Finding, Language, Turn, TutorReply
from domain.tutor.questions import fallbacks, phrase
from domain.tutor.ranking import overlaps, rank
from domain.tutor.terms import find_unexplained_terms
from domain.tutor.text import make_document


def warm_up() -> None:
    """Load the word lists and the Chinese dictionary now, so the first learner waits for neither.

    Then asks once in each language, which compiles the patterns built on first use.
    Safe to call more than once and from several threads; the API calls it at startup.
    """
    lexicon.load_all()
    segmenter.warm_up()
    ask("warm-up", "ATP is kind of made by mitochondria. It isn't food.", [Turn("user", "ATP is food.")])
    ask("预热", "线粒体大概会产生ATP，线粒体不是食物。", [Turn("user", "线粒体是食物。")])


def ask(topic: str, explanation: str, memory: Sequence[Turn] = (), *, max_questions: int = 3) -> TutorReply:
    """Up to ``max_questions`` probing questions about ``explanation``, in the learner's language.

    Deterministic: the same topic, explanation and memory give the same reply. Never
    empty: with nothing to probe it asks for an example or an analogy of the topic.
    Questions already asked in ``memory`` are not asked again while others remain.
    ``findings`` holds every finding, ranked, not only those that became questions.
    """
    if max_questions < 1:
        raise ValueError(f"max_questions must be >= 1, got {max_questions}")
    language = _reply_language(topic, explanation, memory)
    earlier = earlier_explanations(memory)
    doc = make_document(explanation, language)
    findings = rank(
        [
            *find_contradictions(explanation, earlier, language),
            *find_unexplained_terms(doc, topic, earlier),
            *find_vague(doc),
            *find_no_cause(doc, topic),
            *find_no_example(doc),
        ]
    )
    return TutorReply(
        questions=_choose(findings, topic, language, asked_questions(memory), max_questions),
        language=language,
        findings=findings,
    )


def _reply_language(topic: str, explanation: str, memory: Sequence[Turn]) -> Language:
    """The explanation's language; if it has no words, the topic's, then the last turn's."""
    for text in (explanation, topic, *earlier_explanations(memory)):
        if has_words(text):
            return detect_language(text)
    return "en"


def _choose(
    findings: list[Finding], topic: str, language: Language, asked: set[str], limit: int
) -> list[str]:
    """The first ``limit`` distinct questions not asked before; a fallback if none is left.

    A finding that quotes the same words as one already asked about is skipped: three
    questions picking at one sentence read as nagging, not curiosity.
    """
    questions: list[str] = []
    chosen: list[Finding] = []
    for finding in findings:
        if len(questions) == limit:
            break
        question = phrase(finding, language)
        if question in asked or question in questions or overlaps(finding, chosen):
            continue
        questions.append(question)
        chosen.append(finding)
    if not questions:
        spare = fallbacks(topic, language)
        questions.append(next((q for q in spare if q not in asked), spare[0]))
    return questions
