"""The consolidation and memory handlers on plain dicts, with a recording publisher and a fake LLM."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest

from domain.consolidation import SessionDigest, SessionTurn, consolidate_session, digest_to_dict
from domain.llm.client import Completion
from domain.llm.errors import LlmError
from foundation.errors import PermanentTaskError
from schemas.envelope import Envelope, new_envelope
from schemas.events import (
    ChatTurn,
    ConversationEnded,
    LlmUsage,
    MemoryConsolidated,
    MemoryRequested,
    Utterance,
)
from streams.consolidation_tasks import PURPOSE, Summarise, handle_consolidation, handle_memory, summarised
from streams.results import result_event_id
from tests.streams.handlers.support import RecordingPublish, context_for

SESSION = "sess-9"
LEARNER = "user:ben"
TOPIC = "Gravity"
EXPLANATIONS = (
    "Gravity is the pull between any two objects that have mass.",
    "The Earth is very heavy, so its pull on a falling ball is strong and the ball speeds up.",
    "The Moon keeps going around the Earth because the Earth's gravity keeps pulling it inwards.",
)
LOCAL: Summarise = partial(summarised, complete=None, max_tokens=200, attempts=2)


def _turn(text: str, *, user_id: str | None = LEARNER) -> Envelope[ChatTurn]:
    return new_envelope(
        ChatTurn(session_id=SESSION, topic=TOPIC, user_id=user_id, user_input=text, questions=["Why?"])
    )


async def _consolidate(
    envelope: Envelope[Any],
    sessions: dict[str, Any],
    publish: RecordingPublish,
    *,
    every: int = 2,
    summarise: Summarise = LOCAL,
) -> str | None:
    return await handle_consolidation(
        envelope,
        context_for("consolidation", envelope.id),
        sessions=sessions,
        every=every,
        keep=20,
        summarise=summarise,
        publish=publish,
    )


def _digest_of(*texts: str, user_id: str | None = LEARNER) -> dict[str, Any]:
    turns = [SessionTurn(t, ("Why?",)) for t in texts]
    return digest_to_dict(consolidate_session(turns, topic=TOPIC, session_id=SESSION, user_id=user_id))


async def test_turns_are_kept_and_every_kth_turn_publishes_the_sessions_digest() -> None:
    sessions: dict[str, Any] = {}
    publish = RecordingPublish()
    first, second = _turn(EXPLANATIONS[0]), _turn(EXPLANATIONS[1])

    assert await _consolidate(first, sessions, publish) is None
    assert publish.calls == []
    assert sessions[SESSION]["turns"] == 1
    assert sessions[SESSION]["user_id"] == LEARNER

    ref = await _consolidate(second, sessions, publish)

    [(result, event_id)] = publish.calls
    assert event_id == result_event_id(context_for("consolidation", second.id))
    assert ref == f"results/{event_id}"
    assert result == MemoryConsolidated(
        learner_id=LEARNER,
        user_id=LEARNER,
        session_id=SESSION,
        topic=TOPIC,
        trigger="chat.turn",
        source_event_id=second.id,
        digest=_digest_of(*EXPLANATIONS[:2]),
        explanations=list(EXPLANATIONS[:2]),
    )
    assert sessions[SESSION]["consolidated_turns"] == 2


async def test_a_rerun_of_the_kth_turn_publishes_the_same_result_and_counts_the_turn_once() -> None:
    sessions: dict[str, Any] = {}
    publish = RecordingPublish()
    await _consolidate(_turn(EXPLANATIONS[0]), sessions, publish)
    second = _turn(EXPLANATIONS[1])

    refs = [await _consolidate(second, sessions, publish) for _ in range(2)]

    assert refs[0] == refs[1]
    (first_result, first_id), (again, again_id) = publish.calls
    assert (again, again_id) == (first_result, first_id)
    assert sessions[SESSION]["turns"] == 2


async def test_the_end_of_a_conversation_digests_what_was_not_yet_published() -> None:
    sessions: dict[str, Any] = {}
    publish = RecordingPublish()
    for text in EXPLANATIONS:
        await _consolidate(_turn(text), sessions, publish, every=10)
    ended = new_envelope(ConversationEnded(session_id=SESSION, topic=TOPIC, reason="idle"))

    await _consolidate(ended, sessions, publish, every=10)

    [(result, _)] = publish.calls
    assert isinstance(result, MemoryConsolidated)
    assert (result.trigger, result.source_event_id) == ("conversation.ended", ended.id)
    # The end event has no user; the learner is the one the turns named.
    assert (result.learner_id, result.user_id) == (LEARNER, LEARNER)
    assert result.explanations == list(EXPLANATIONS)
    assert sessions[SESSION]["consolidated_turns"] == 3


async def test_the_end_of_an_unknown_session_publishes_nothing() -> None:
    sessions: dict[str, Any] = {}
    publish = RecordingPublish()
    ended = new_envelope(ConversationEnded(session_id=SESSION, topic=TOPIC))

    assert await _consolidate(ended, sessions, publish) is None
    assert (sessions, publish.calls) == ({}, [])


async def test_a_memorize_request_digests_its_history_without_touching_the_session_table() -> None:
    sessions: dict[str, Any] = {}
    publish = RecordingPublish()
    history = [Utterance(role="user", content=EXPLANATIONS[0]), Utterance(role="assistant", content="Why?")]
    requested = new_envelope(MemoryRequested(topic=TOPIC, conversation_history=history, user_id=LEARNER))

    await _consolidate(requested, sessions, publish)

    [(result, _)] = publish.calls
    assert isinstance(result, MemoryConsolidated)
    # With no session id, the request is its own session.
    assert (result.session_id, result.learner_id, result.trigger) == (
        requested.id,
        LEARNER,
        "memory.requested",
    )
    assert result.explanations == [EXPLANATIONS[0]]
    assert sessions == {}


async def test_a_memorize_request_without_learner_lines_publishes_nothing() -> None:
    publish = RecordingPublish()
    history = [Utterance(role="assistant", content="What do you know about gravity?")]
    requested = new_envelope(MemoryRequested(topic=TOPIC, conversation_history=history, session_id=SESSION))

    assert await _consolidate(requested, {}, publish) is None
    assert publish.calls == []


async def test_consolidation_refuses_a_misrouted_event() -> None:
    sessions: dict[str, Any] = {}
    publish = RecordingPublish()
    usage = new_envelope(
        LlmUsage(
            model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1, latency_ms=1.0, session_id=SESSION
        )
    )

    with pytest.raises(PermanentTaskError, match=r"consolidation cannot handle llm\.usage"):
        await _consolidate(usage, sessions, publish)
    assert (sessions, publish.calls) == ({}, [])


@dataclass
class FakeLlm:
    """Answers with ``text``, or raises ``error``; records every request."""

    text: str = '{"summary": ["Ben knows gravity pulls masses together.", "Orbits stayed vague."]}'
    error: LlmError | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(
        self,
        messages: list[dict[str, str]],
        *,
        purpose: str,
        max_tokens: int,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> Completion:
        self.requests.append(
            {"purpose": purpose, "max_tokens": max_tokens, "session_id": session_id, "user_id": user_id}
        )
        if self.error is not None:
            raise self.error
        return Completion(
            text=self.text, model="gpt-4o-mini", prompt_tokens=10, completion_tokens=5, latency_ms=1
        )


async def test_with_an_llm_the_published_digest_carries_its_summary() -> None:
    llm = FakeLlm()
    publish = RecordingPublish()
    summarise: Summarise = partial(summarised, complete=llm, max_tokens=123, attempts=4)
    sessions: dict[str, Any] = {}
    for text in EXPLANATIONS[:2]:
        await _consolidate(_turn(text), sessions, publish, summarise=summarise)

    [(result, _)] = publish.calls
    assert isinstance(result, MemoryConsolidated)
    assert result.digest["summary"] == ["Ben knows gravity pulls masses together.", "Orbits stayed vague."]
    assert result.digest["summary_source"] == "llm"
    assert llm.requests == [
        {"purpose": PURPOSE, "max_tokens": 123, "session_id": SESSION, "user_id": LEARNER}
    ]


def _local_digest() -> tuple[list[SessionTurn], SessionDigest]:
    turns = [SessionTurn(t) for t in EXPLANATIONS]
    return turns, consolidate_session(turns, topic=TOPIC, session_id=SESSION, user_id=LEARNER)


async def test_a_transient_llm_failure_raises_so_the_runtime_retries() -> None:
    turns, digest = _local_digest()
    llm = FakeLlm(error=LlmError("timed out", status=None))

    with pytest.raises(LlmError):
        await summarised(
            digest,
            turns,
            context_for("consolidation", "e1", attempt=2),
            complete=llm,
            max_tokens=9,
            attempts=4,
        )


async def test_on_the_last_attempt_a_transient_failure_keeps_the_local_summary() -> None:
    turns, digest = _local_digest()
    llm = FakeLlm(error=LlmError("timed out", status=503))

    kept = await summarised(
        digest, turns, context_for("consolidation", "e1", attempt=3), complete=llm, max_tokens=9, attempts=4
    )

    assert kept == digest
    assert kept.summary_source == "local"


async def test_a_failure_a_retry_cannot_fix_keeps_the_local_summary_at_once() -> None:
    turns, digest = _local_digest()
    llm = FakeLlm(error=LlmError("bad key", status=401))

    kept = await summarised(
        digest, turns, context_for("consolidation", "e1"), complete=llm, max_tokens=9, attempts=4
    )

    assert kept == digest
    assert len(llm.requests) == 1


async def test_an_answer_without_a_summary_keeps_the_local_summary() -> None:
    turns, digest = _local_digest()

    kept = await summarised(
        digest,
        turns,
        context_for("consolidation", "e1"),
        complete=FakeLlm(text="   "),
        max_tokens=9,
        attempts=4,
    )

    assert kept == digest


def _consolidated(session_id: str, *texts: str) -> Envelope[MemoryConsolidated]:
    turns = [SessionTurn(t) for t in texts]
    digest = consolidate_session(turns, topic=TOPIC, session_id=session_id, user_id=LEARNER)
    return new_envelope(
        MemoryConsolidated(
            learner_id=LEARNER,
            user_id=LEARNER,
            session_id=session_id,
            topic=TOPIC,
            trigger="conversation.ended",
            source_event_id=f"end-{session_id}",
            digest=digest_to_dict(digest),
            explanations=list(texts),
        )
    )


async def test_memory_folds_each_session_once_per_topic() -> None:
    memory: dict[str, Any] = {}
    first, second = _consolidated("sess-1", *EXPLANATIONS[:2]), _consolidated("sess-2", EXPLANATIONS[2])

    refs = [
        await handle_memory(e, context_for("memory", e.id), memory=memory) for e in (first, first, second)
    ]

    assert refs == [f"learner_memory/{LEARNER}/gravity"] * 3
    entry = memory[LEARNER]["topics"]["gravity"]
    assert entry["sessions"] == 2
    assert entry["last_session_id"] == "sess-2"
    assert [s["session_id"] for s in entry["summaries"]] == ["sess-1", "sess-2"]


async def test_memory_refuses_a_misrouted_event() -> None:
    memory: dict[str, Any] = {}
    envelope = _turn(EXPLANATIONS[0])

    with pytest.raises(PermanentTaskError, match=r"memory cannot handle chat\.turn"):
        await handle_memory(envelope, context_for("memory", envelope.id), memory=memory)
    assert memory == {}
