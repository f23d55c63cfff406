"""The transcript handler on plain dicts: rows per session, idempotent under redelivery."""

from __future__ import annotations

from typing import Any

import pytest

from foundation.errors import PermanentTaskError
from schemas.envelope import new_envelope
from schemas.events import ChatTurn, ConversationEnded, LlmUsage, MemoryRequested, Utterance
from streams.transcripts import handle_transcript
from tests.streams.handlers.support import context_for

SESSION = "sess-42"
TURN = ChatTurn(
    session_id=SESSION,
    topic="Photosynthesis",
    user_input="Plants turn light, water and carbon dioxide into sugar.",
    questions=["Where in the leaf does this happen?"],
)


async def test_a_turn_is_recorded_under_its_session() -> None:
    table: dict[str, Any] = {}
    envelope = new_envelope(TURN)

    ref = await handle_transcript(envelope, context_for("transcript", envelope.id), transcripts=table)

    assert ref == f"session_transcripts/{SESSION}#1"
    row = table[SESSION]
    assert row["turns"] == 1
    assert row["topic"] == "Photosynthesis"
    assert [t["event_id"] for t in row["recent"]] == [envelope.id]
    assert row["recent"][0]["user_input"] == TURN.user_input
    assert row["recent"][0]["questions"] == ["Where in the leaf does this happen?"]


async def test_a_redelivered_turn_is_counted_once() -> None:
    table: dict[str, Any] = {}
    first, second = new_envelope(TURN), new_envelope(TURN)
    for envelope in (first, first, second):
        await handle_transcript(envelope, context_for("transcript", envelope.id), transcripts=table)

    assert table[SESSION]["turns"] == 2
    assert [t["event_id"] for t in table[SESSION]["recent"]] == [first.id, second.id]


async def test_the_end_of_a_conversation_marks_the_row_ended() -> None:
    table: dict[str, Any] = {}
    turn = new_envelope(TURN)
    await handle_transcript(turn, context_for("transcript", turn.id), transcripts=table)
    ended = new_envelope(ConversationEnded(session_id=SESSION, topic="Photosynthesis", reason="closed"))

    ref = await handle_transcript(ended, context_for("transcript", ended.id), transcripts=table)

    assert ref == f"session_transcripts/{SESSION}#1"
    assert table[SESSION]["ended"] is True
    assert table[SESSION]["turns"] == 1


async def test_a_memorize_request_keeps_the_conversation_once() -> None:
    table: dict[str, Any] = {}
    history = [
        Utterance(role="user", content="Plants make food from light."),
        Utterance(role="assistant", content="What do they take in?"),
    ]
    envelope = new_envelope(
        MemoryRequested(topic="Photosynthesis", conversation_history=history, session_id=SESSION)
    )
    for _ in range(2):
        await handle_transcript(envelope, context_for("transcript", envelope.id), transcripts=table)

    [memorized] = table[SESSION]["memorized"]
    assert memorized["event_id"] == envelope.id
    assert memorized["history"] == [
        {"role": "user", "content": "Plants make food from light."},
        {"role": "assistant", "content": "What do they take in?"},
    ]


async def test_a_misrouted_event_is_a_permanent_error_and_writes_nothing() -> None:
    table: dict[str, Any] = {}
    envelope = new_envelope(
        LlmUsage(
            model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1, latency_ms=1.0, session_id=SESSION
        )
    )

    with pytest.raises(PermanentTaskError, match=r"transcript cannot handle llm\.usage"):
        await handle_transcript(envelope, context_for("transcript", envelope.id), transcripts=table)
    assert table == {}
