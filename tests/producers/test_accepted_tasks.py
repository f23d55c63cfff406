"""The API's memory of accepted tasks: bounded, and a session's lookup costs only that session."""

from __future__ import annotations

from producers.status_client import AcceptedTasks
from schemas import ChatTurn, new_envelope
from schemas.status import queued


def turn(session: str) -> list:
    return queued(new_envelope(ChatTurn(session_id=session, topic="t", user_input="hi")))


def test_a_sessions_tasks_come_back_in_the_order_accepted_and_only_its_own() -> None:
    accepted = AcceptedTasks()
    first, other, second = turn("s1"), turn("s2"), turn("s1")
    for change in [*first, *other, *second]:
        accepted.add(change)
    assert [r["task_id"] for r in accepted.for_session("s1")] == [c.task_id for c in [*first, *second]]
    assert [r["task_id"] for r in accepted.for_session("s2")] == [c.task_id for c in other]
    assert accepted.for_session("s3") == []


def test_the_oldest_tasks_leave_the_memory_and_the_session_index_together() -> None:
    accepted = AcceptedTasks(capacity=6)
    turns = [turn(f"s{n}") for n in range(10)]
    for changes in turns:
        for change in changes:
            accepted.add(change)
    per_turn = len(turns[0])
    kept = 6 // per_turn
    assert len(accepted) <= 6
    assert accepted.sessions == kept
    assert accepted.for_session("s0") == []
    assert [r["task_id"] for r in accepted.for_session("s9")] == [c.task_id for c in turns[9]]
