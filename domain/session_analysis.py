"""A session's analysis state: its recent quality reports and what the next turn is judged against.

The analysis of a turn depends on the turn before it (were the tutor's questions
answered? was a term explained earlier?), so the state the analysis task keeps per
session holds the last turn's questions and the learner's earlier explanations
itself, rather than reading the transcript table another task type writes at its own
pace. Recording the same turn twice changes nothing (at-least-once delivery).
"""

from __future__ import annotations

from typing import Any

KEEP_EXPLANATIONS = 10


def find_report(state: dict[str, Any] | None, event_id: str) -> dict[str, Any] | None:
    """The entry already recorded for ``event_id`` (a redelivered turn), if any."""
    for entry in (state or {}).get("reports", []):
        if entry["event_id"] == event_id:
            return dict(entry)
    return None


def turn_context(state: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """The previous turn's tutor questions and the learner's earlier explanations."""
    current = state or {}
    return list(current.get("last_questions", [])), list(current.get("explanations", []))


def record_report(
    state: dict[str, Any] | None,
    *,
    event_id: str,
    at: str,
    topic: str,
    explanation: str,
    questions: list[str],
    report: dict[str, Any],
    keep: int,
) -> dict[str, Any]:
    """The state after one more analysed turn (unchanged if ``event_id`` is recorded)."""
    current = state or {"turns": 0, "reports": [], "last_questions": [], "explanations": []}
    if find_report(current, event_id) is not None:
        return current
    entry = {"event_id": event_id, "at": at, "topic": topic, "report": report}
    return {
        "turns": current["turns"] + 1,
        "reports": [*current["reports"], entry][-keep:],
        "last_questions": list(questions),
        "explanations": [*current["explanations"], explanation][-KEEP_EXPLANATIONS:],
        "updated_at": at,
    }
