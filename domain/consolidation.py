"""Memory consolidation: what a learner showed about a topic, kept across sessions.

A session's turns become a :class:`SessionDigest` (the most central sentences, the
concepts used and whether each was explained, the tutor questions never answered, and
how well the session went); :func:`merge_memory` folds it into the learner's long-term
memory of the topic. Mastery moves by exponential smoothing, so one good or bad session
shifts it without erasing the past. Consolidating the same session again (every few
turns, then at its end) replaces that session's contribution instead of counting it
twice, which keeps redelivery and re-runs harmless. Pure and deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from domain.analysis import analyse
from domain.answers import coverage
from domain.summarise import central_sentences
from domain.tutor.language import detect_language
from domain.tutor.terms import find_terms
from domain.tutor.text import make_document

# Smoothing rate: a new session weighs 30%, so mastery reflects about the last three
# sessions (weights 0.3, 0.21, 0.15, ...) and a single fluke moves it by a third at most.
MASTERY_RATE = 0.3
# A session's evidence: mean clarity (how well it was explained) 60%, share of the
# concepts used that were explained 40% (what the learner can put in plain words).
CLARITY_WEIGHT, CONCEPT_WEIGHT = 0.6, 0.4
SUMMARY_SENTENCES = 3
KEEP_CONCEPTS, KEEP_OPEN_QUESTIONS, KEEP_SUMMARIES = 30, 10, 5
Status = Literal["explained", "mentioned"]
# Who wrote the summary: the local extractive engine, or the LLM backend when configured.
SummarySource = Literal["local", "llm"]


@dataclass(frozen=True)
class SessionTurn:
    """One learner explanation and the tutor's questions that followed it."""

    explanation: str
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Concept:
    """A term the learner used: explained at least once, or only mentioned."""

    term: str
    status: Status
    mentions: int


@dataclass(frozen=True)
class SessionDigest:
    """What one session showed; the input of :func:`merge_memory`."""

    session_id: str
    topic: str
    user_id: str | None
    language: str
    summary: tuple[str, ...]
    concepts: tuple[Concept, ...]
    open_questions: tuple[str, ...]
    clarity: float
    score: float
    explanations: tuple[str, ...] = field(repr=False, default=())
    summary_source: SummarySource = "local"


def consolidate_session(
    turns: Sequence[SessionTurn], *, topic: str, session_id: str, user_id: str | None = None
) -> SessionDigest:
    """The digest of a session's turns, oldest first."""
    explanations = [t.explanation for t in turns]
    language = detect_language(" ".join(explanations) or topic)
    concepts: dict[str, list[Any]] = {}
    clarity: list[float] = []
    for index, turn in enumerate(turns):
        earlier = explanations[:index]
        previous = turns[index - 1].questions if index else ()
        clarity.append(
            analyse(
                turn.explanation, topic=topic, previous_questions=previous, earlier_explanations=earlier
            ).clarity
        )
        for term in find_terms(make_document(turn.explanation, language), topic, earlier):
            entry = concepts.setdefault(term.text.lower(), [term.text, False, 0])
            entry[1] = entry[1] or term.explained
            entry[2] += term.count
    ranked = sorted(concepts.values(), key=lambda e: -e[2])[:KEEP_CONCEPTS]
    concept_list = tuple(Concept(t, "explained" if done else "mentioned", n) for t, done, n in ranked)
    mean_clarity = round(sum(clarity) / len(clarity), 1) if clarity else 0.0
    explained_share = (
        sum(c.status == "explained" for c in concept_list) / len(concept_list) if concept_list else None
    )
    score = (
        mean_clarity / 100
        if explained_share is None
        else CLARITY_WEIGHT * mean_clarity / 100 + CONCEPT_WEIGHT * explained_share
    )
    return SessionDigest(
        session_id=session_id,
        topic=topic,
        user_id=user_id,
        language=language,
        summary=_summary(explanations, language),
        concepts=concept_list,
        open_questions=_open_questions(turns, topic),
        clarity=mean_clarity,
        score=round(score, 4),
        explanations=tuple(explanations),
    )


def _summary(explanations: Sequence[str], language: Any) -> tuple[str, ...]:
    sentences = [s.text for e in explanations for s in make_document(e, language).claims()]
    return tuple(sentences[i] for i in central_sentences(sentences, SUMMARY_SENTENCES, language))


def _open_questions(turns: Sequence[SessionTurn], topic: str) -> tuple[str, ...]:
    """Questions no later turn answered (the last turn's questions are all still open)."""
    open_ = []
    for index, turn in enumerate(turns):
        later = [t.explanation for t in turns[index + 1 :]]
        for question in turn.questions:
            if not any(_answers(question, text, topic) for text in later) and question not in open_:
                open_.append(question)
    return tuple(open_)


def _answers(question: str, explanation: str, topic: str) -> bool:
    language = detect_language(explanation)
    unexplained = [t.text for t in find_terms(make_document(explanation, language), topic) if not t.explained]
    return coverage(question, explanation, topic, unexplained).answered


def merge_memory(previous: Mapping[str, Any] | None, digest: SessionDigest) -> dict[str, Any]:
    """The long-term memory of (learner, topic) after one more session, as a JSON-ready dict.

    The memory keeps itself as it was before its last session (``before_last``), so
    merging that session again, grown by a few turns or redelivered, starts over from
    there: the result is as if the session had been merged once, in its latest form.
    """
    prev = dict(previous or {})
    if prev.get("last_session_id") == digest.session_id:
        prev = dict(prev.get("before_last") or {})
    base = prev.get("mastery")
    mastery = digest.score if base is None else base + MASTERY_RATE * (digest.score - base)
    concepts = {c["term"].lower(): dict(c) for c in prev.get("concepts", [])}
    for concept in digest.concepts:
        entry = concepts.setdefault(
            concept.term.lower(), {"term": concept.term, "status": "mentioned", "sessions": 0}
        )
        if concept.status == "explained":
            entry["status"] = "explained"
        entry["sessions"] += 1
    open_before = prev.get("open_questions", [])
    still_open = [
        q for q in open_before if not any(_answers(q, e, digest.topic) for e in digest.explanations)
    ]
    summaries = [
        *prev.get("summaries", []),
        {"session_id": digest.session_id, "sentences": list(digest.summary)},
    ]
    return {
        "user_id": digest.user_id,
        "topic": digest.topic,
        "language": digest.language,
        "mastery": round(min(1.0, max(0.0, mastery)), 4),
        "sessions": prev.get("sessions", 0) + 1,
        "last_session_id": digest.session_id,
        "summary": list(digest.summary),
        "summary_source": digest.summary_source,
        "summaries": summaries[-KEEP_SUMMARIES:],
        "concepts": sorted(concepts.values(), key=lambda c: (-c["sessions"], c["term"]))[:KEEP_CONCEPTS],
        "open_questions": list(dict.fromkeys([*still_open, *digest.open_questions]))[-KEEP_OPEN_QUESTIONS:],
        "before_last": {k: v for k, v in prev.items() if k != "before_last"} or None,
    }


def digest_to_dict(digest: SessionDigest) -> dict[str, Any]:
    """The digest as plain JSON types (a result topic's payload); explanations left out."""
    data = asdict(digest)
    del data["explanations"]
    data["summary"], data["open_questions"] = list(digest.summary), list(digest.open_questions)
    data["concepts"] = [asdict(c) for c in digest.concepts]
    return data


def digest_from_dict(data: Mapping[str, Any], explanations: Sequence[str] = ()) -> SessionDigest:
    """A digest back from :func:`digest_to_dict` (a result event), with the explanations sent beside it."""
    return SessionDigest(
        session_id=str(data["session_id"]),
        topic=str(data["topic"]),
        user_id=data.get("user_id"),
        language=str(data["language"]),
        summary=tuple(data["summary"]),
        concepts=tuple(Concept(c["term"], c["status"], int(c["mentions"])) for c in data["concepts"]),
        open_questions=tuple(data["open_questions"]),
        clarity=float(data["clarity"]),
        score=float(data["score"]),
        explanations=tuple(explanations),
        # Digests published before the LLM summary existed carry no source: they were local.
        summary_source="llm" if data.get("summary_source") == "llm" else "local",
    )


def turns_from_history(history: Sequence[Mapping[str, str]]) -> list[SessionTurn]:
    """A stored conversation (user and assistant lines) as turns: each user line and the replies after it."""
    turns: list[SessionTurn] = []
    for line in history:
        if line["role"] == "user" and line["content"].strip():
            turns.append(SessionTurn(line["content"]))
        elif line["role"] == "assistant" and turns and line["content"].strip():
            last = turns[-1]
            turns[-1] = SessionTurn(last.explanation, (*last.questions, line["content"]))
    return turns
