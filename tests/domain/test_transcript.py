"""A session's transcript: turns recorded once, and when it counts as gone quiet."""

from __future__ import annotations

from domain.transcript import idle_unconsolidated, mark_consolidated, record_turn


def turn(state: dict | None, n: int, at: str) -> dict:
    return record_turn(state, event_id=f"e{n}", at=at, topic="gravity", user_input=f"turn {n}", questions=[])


def test_a_redelivered_turn_is_recorded_once() -> None:
    state = turn(turn(None, 1, "2026-01-01T10:00:00.000000Z"), 1, "2026-01-01T10:00:00.000000Z")
    assert state["turns"] == 1


def test_a_session_is_idle_when_quiet_since_before_the_cutoff_with_turns_not_consolidated() -> None:
    state = turn(turn(None, 1, "2026-01-01T10:00:00.000000Z"), 2, "2026-01-01T10:05:00.000000Z")
    assert idle_unconsolidated(state, idle_before="2026-01-01T10:06:00.000000Z")
    assert not idle_unconsolidated(state, idle_before="2026-01-01T10:04:00.000000Z")  # spoke since
    done = mark_consolidated(state)
    assert not idle_unconsolidated(done, idle_before="2026-01-01T11:00:00.000000Z")
    again = turn(done, 3, "2026-01-01T10:20:00.000000Z")
    assert idle_unconsolidated(again, idle_before="2026-01-01T11:00:00.000000Z")
