"""The analysis and progress handlers on plain dicts, with a recording publisher."""

from __future__ import annotations

from typing import Any

import pytest

from domain.analysis import analyse
from foundation.errors import PermanentTaskError
from schemas.envelope import new_envelope
from schemas.events import AnalysisCompleted, ChatTurn, ConversationEnded
from streams.analysis_tasks import handle_analysis, handle_progress
from streams.results import result_event_id
from tests.streams.handlers.support import RecordingPublish, context_for

SESSION = "sess-7"
LEARNER = "user:ana"
FIRST = ChatTurn(
    session_id=SESSION,
    topic="Photosynthesis",
    user_id=LEARNER,
    user_input="Plants make food from light. Chlorophyll does it somehow.",
    questions=["What is chlorophyll?", "What does the plant take in besides light?"],
)
SECOND = ChatTurn(
    session_id=SESSION,
    topic="Photosynthesis",
    user_id=LEARNER,
    user_input=(
        "Chlorophyll is the green pigment in leaves that absorbs light. The plant takes in water and "
        "carbon dioxide and uses the light's energy to join them into glucose, releasing oxygen."
    ),
)


async def _analyse(
    turn: ChatTurn, reports: dict[str, Any], publish: RecordingPublish, *, envelope: Any = None
) -> tuple[str, Any]:
    envelope = envelope or new_envelope(turn)
    ref = await handle_analysis(
        envelope, context_for("analysis", envelope.id), reports=reports, keep=5, publish=publish
    )
    return ref, envelope


async def test_a_turn_is_analysed_stored_and_published_for_its_learner() -> None:
    reports: dict[str, Any] = {}
    publish = RecordingPublish()

    ref, envelope = await _analyse(FIRST, reports, publish)

    expected = analyse(FIRST.user_input, topic=FIRST.topic, previous_questions=[], earlier_explanations=[])
    [(result, event_id)] = publish.calls
    assert event_id == result_event_id(context_for("analysis", envelope.id))
    assert ref == f"results/{event_id}"
    assert result == AnalysisCompleted(
        learner_id=LEARNER,
        user_id=LEARNER,
        session_id=SESSION,
        topic="Photosynthesis",
        turn_event_id=envelope.id,
        explanation=FIRST.user_input,
        report=expected.to_dict(),
    )
    row = reports[SESSION]
    assert row["turns"] == 1
    assert [r["event_id"] for r in row["reports"]] == [envelope.id]
    assert row["reports"][0]["report"] == expected.to_dict()
    assert row["last_questions"] == list(FIRST.questions)


async def test_the_next_turn_is_judged_against_the_previous_one() -> None:
    reports: dict[str, Any] = {}
    publish = RecordingPublish()
    await _analyse(FIRST, reports, publish)

    await _analyse(SECOND, reports, publish)

    expected = analyse(
        SECOND.user_input,
        topic=SECOND.topic,
        previous_questions=list(FIRST.questions),
        earlier_explanations=[FIRST.user_input],
    )
    result = publish.calls[1][0]
    assert isinstance(result, AnalysisCompleted)
    assert result.report == expected.to_dict()
    assert reports[SESSION]["turns"] == 2


async def test_an_anonymous_learner_is_their_session() -> None:
    publish = RecordingPublish()
    await _analyse(FIRST.model_copy(update={"user_id": None}), {}, publish)

    [(result, _)] = publish.calls
    assert isinstance(result, AnalysisCompleted)
    assert (result.learner_id, result.user_id) == (SESSION, None)


async def test_a_rerun_publishes_the_same_result_and_stores_the_turn_once() -> None:
    reports: dict[str, Any] = {}
    publish = RecordingPublish()
    first_ref, envelope = await _analyse(FIRST, reports, publish)
    # A different stored report proves the re-run republishes it rather than analysing again.
    reports[SESSION]["reports"][0]["report"] = {"clarity": 12.5}

    again_ref, _ = await _analyse(FIRST, reports, publish, envelope=envelope)

    assert again_ref == first_ref
    (first, first_id), (again, again_id) = publish.calls
    assert again_id == first_id
    assert again == first.model_copy(update={"report": {"clarity": 12.5}})
    assert reports[SESSION]["turns"] == 1


async def test_analysis_refuses_a_misrouted_event() -> None:
    reports: dict[str, Any] = {}
    publish = RecordingPublish()
    envelope = new_envelope(ConversationEnded(session_id=SESSION, topic="Photosynthesis"))

    with pytest.raises(PermanentTaskError, match=r"analysis cannot handle conversation\.ended"):
        await handle_analysis(
            envelope, context_for("analysis", envelope.id), reports=reports, keep=5, publish=publish
        )
    assert (reports, publish.calls) == ({}, [])


def _completed(clarity: float, *, turn_event_id: str, topic: str = "Photosynthesis") -> AnalysisCompleted:
    return AnalysisCompleted(
        learner_id=LEARNER,
        session_id=SESSION,
        topic=topic,
        turn_event_id=turn_event_id,
        explanation="Plants make food from light.",
        report={"clarity": clarity},
    )


async def test_progress_folds_each_analysed_turn_once() -> None:
    progress: dict[str, Any] = {}
    first = new_envelope(_completed(40.0, turn_event_id="turn-1"))
    second = new_envelope(_completed(60.0, turn_event_id="turn-2"))

    refs = [
        await handle_progress(e, context_for("progress", e.id), progress=progress)
        for e in (first, first, second)
    ]

    assert refs == [
        f"learner_progress/{LEARNER}#1",
        f"learner_progress/{LEARNER}#1",
        f"learner_progress/{LEARNER}#2",
    ]
    row = progress[LEARNER]
    assert row["count"] == 2
    assert row["mean_clarity"] == 50.0
    assert row["recent"] == [40.0, 60.0]
    assert row["best_by_topic"] == {"photosynthesis": 60.0}


async def test_a_redelivered_result_with_a_new_event_id_still_counts_once() -> None:
    # A re-run of analysis republishes under the same event id, but the fold keys on the turn.
    progress: dict[str, Any] = {}
    for envelope in (new_envelope(_completed(40.0, turn_event_id="turn-1")) for _ in range(2)):
        await handle_progress(envelope, context_for("progress", envelope.id), progress=progress)

    assert progress[LEARNER]["count"] == 1


async def test_progress_refuses_a_misrouted_event() -> None:
    progress: dict[str, Any] = {}
    envelope = new_envelope(FIRST)

    with pytest.raises(PermanentTaskError, match=r"progress cannot handle chat\.turn"):
        await handle_progress(envelope, context_for("progress", envelope.id), progress=progress)
    assert progress == {}
