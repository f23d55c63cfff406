"""The vectors handler with a recording store: what it stores, under which id, and what it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from foundation.errors import PermanentTaskError
from schemas.envelope import new_envelope
from schemas.events import AnalysisCompleted, LlmUsage, MemoryConsolidated
from streams.vectors import PREVIEW_CHARS, Item, handle_vectors
from tests.streams.handlers.support import context_for

LEARNER = "user:cleo"
SESSION = "sess-3"


@dataclass
class RecordingStore:
    """Stands in for the batcher's ``submit``: keeps every item it was given."""

    items: list[Item] = field(default_factory=list)

    async def __call__(self, item: Item) -> None:
        self.items.append(item)


def _completed(explanation: str) -> AnalysisCompleted:
    return AnalysisCompleted(
        learner_id=LEARNER,
        session_id=SESSION,
        topic="Compound interest",
        turn_event_id="turn-1",
        explanation=explanation,
        report={"clarity": 50.0},
    )


def _consolidated(summary: list[str]) -> MemoryConsolidated:
    return MemoryConsolidated(
        learner_id=LEARNER,
        session_id=SESSION,
        topic="Compound Interest",
        trigger="conversation.ended",
        source_event_id="end-1",
        digest={"summary": summary},
    )


async def test_an_explanation_is_stored_under_its_turn() -> None:
    store = RecordingStore()
    envelope = new_envelope(_completed("Interest is paid on interest already earned."))

    ref = await handle_vectors(envelope, context_for("vectors", envelope.id), submit=store)

    assert ref == "vectors/turn/turn-1"
    assert store.items == [
        (
            "turn/turn-1",
            "Interest is paid on interest already earned.",
            {
                "user_id": LEARNER,
                "session_id": SESSION,
                "topic": "Compound interest",
                "kind": "explanation",
                "text": "Interest is paid on interest already earned.",
            },
        )
    ]


async def test_a_session_summary_is_stored_per_learner_session_and_topic() -> None:
    store = RecordingStore()
    envelope = new_envelope(_consolidated(["Cleo knows interest compounds.", "Rates stayed vague."]))

    ref = await handle_vectors(envelope, context_for("vectors", envelope.id), submit=store)

    item_id = f"summary/{LEARNER}/{SESSION}/compound interest"
    assert ref == f"vectors/{item_id}"
    [(stored_id, text, meta)] = store.items
    assert (stored_id, text) == (item_id, "Cleo knows interest compounds. Rates stayed vague.")
    assert (meta["kind"], meta["topic"], meta["user_id"]) == ("summary", "Compound Interest", LEARNER)


async def test_the_preview_is_bounded_but_the_embedded_text_is_not() -> None:
    store = RecordingStore()
    long_text = "Interest grows. " * 100
    envelope = new_envelope(_completed(long_text))

    await handle_vectors(envelope, context_for("vectors", envelope.id), submit=store)

    [(_, text, meta)] = store.items
    assert text == long_text
    assert meta["text"] == long_text[:PREVIEW_CHARS]


async def test_an_empty_summary_stores_nothing() -> None:
    store = RecordingStore()
    envelope = new_envelope(_consolidated([]))

    assert await handle_vectors(envelope, context_for("vectors", envelope.id), submit=store) is None
    assert store.items == []


async def test_a_rerun_stores_the_same_item_again_so_the_index_upserts_it() -> None:
    store = RecordingStore()
    envelope = new_envelope(_completed("Interest is paid on interest already earned."))

    refs = [
        await handle_vectors(envelope, context_for("vectors", envelope.id), submit=store) for _ in range(2)
    ]

    assert refs[0] == refs[1]
    assert store.items[0] == store.items[1]


async def test_a_misrouted_event_is_a_permanent_error_not_an_attribute_error() -> None:
    # llm.usage has no topic: reading it before the type check used to raise AttributeError.
    store = RecordingStore()
    envelope = new_envelope(
        LlmUsage(model="gpt-4o-mini", prompt_tokens=1, completion_tokens=1, latency_ms=1.0, user_id=LEARNER)
    )

    with pytest.raises(PermanentTaskError, match=r"vectors cannot handle llm\.usage"):
        await handle_vectors(envelope, context_for("vectors", envelope.id), submit=store)
    assert store.items == []
