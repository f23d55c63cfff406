"""A session's analysis state: reports kept in order, the context of the next turn, redelivery."""

from __future__ import annotations

import json

from domain.session_analysis import KEEP_EXPLANATIONS, find_report, record_report, turn_context


def turn(state: dict | None, n: int, *, keep: int = 20, questions: list[str] | None = None) -> dict:
    return record_report(
        state,
        event_id=f"e{n}",
        at=f"2025-03-01T10:{n:02d}:00+00:00",
        topic="gravity",
        explanation=f"Explanation {n}: gravity pulls things down.",
        questions=questions if questions is not None else [f"Question after turn {n}?"],
        report={"clarity": 50.0 + n},
        keep=keep,
    )


def test_a_new_session_judges_its_first_turn_against_nothing() -> None:
    assert turn_context(None) == ([], [])
    assert find_report(None, "e1") is None


def test_the_next_turn_is_judged_against_the_last_questions_and_the_earlier_explanations() -> None:
    state = turn(turn(None, 1), 2, questions=["Why do things fall?"])

    questions, explanations = turn_context(state)

    assert questions == ["Why do things fall?"]
    assert explanations == [
        "Explanation 1: gravity pulls things down.",
        "Explanation 2: gravity pulls things down.",
    ]
    assert state["turns"] == 2 and state["updated_at"] == "2025-03-01T10:02:00+00:00"


def test_a_redelivered_turn_changes_nothing_and_its_report_is_found_again() -> None:
    state = turn(turn(None, 1), 2)

    again = turn(json.loads(json.dumps(state)), 1)  # restored from the changelog, then redelivered

    assert again == state
    assert find_report(state, "e1") == {
        "event_id": "e1",
        "at": "2025-03-01T10:01:00+00:00",
        "topic": "gravity",
        "report": {"clarity": 51.0},
    }


def test_only_the_latest_reports_and_explanations_are_kept_while_turns_keep_counting() -> None:
    state = None
    for n in range(1, 26):
        state = turn(state, n, keep=3)
    assert state is not None

    assert [r["event_id"] for r in state["reports"]] == ["e23", "e24", "e25"]
    assert len(state["explanations"]) == KEEP_EXPLANATIONS
    assert state["explanations"][-1].startswith("Explanation 25")
    assert state["turns"] == 25
    # A turn older than the kept reports is no longer recognised: the window bounds the row's size.
    assert find_report(state, "e1") is None


def test_a_turn_without_questions_leaves_the_next_one_nothing_to_answer() -> None:
    state = turn(turn(None, 1), 2, questions=[])

    assert turn_context(state)[0] == []
