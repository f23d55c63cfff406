"""A session's transcript: how many turns it had and the last few of them.

Kept per session so later task types (consolidation every K turns, the
session pages) need not re-read the topic. Applying the same event twice
changes nothing, so a redelivered event after a crash is harmless.
"""

from __future__ import annotations

from typing import Any

RECENT_TURNS = 20


def record_turn(
    transcript: dict[str, Any] | None,
    *,
    event_id: str,
    at: str,
    topic: str,
    user_input: str,
    questions: list[str],
    keep: int = RECENT_TURNS,
) -> dict[str, Any]:
    """The transcript after one more turn (unchanged if ``event_id`` is known)."""
    current = transcript or {"turns": 0, "recent": [], "ended": False, "topic": topic}
    if any(turn["event_id"] == event_id for turn in current["recent"]):
        return current
    turn = {"event_id": event_id, "at": at, "user_input": user_input, "questions": questions}
    return {
        **current,
        "topic": topic,
        "turns": current["turns"] + 1,
        "recent": [*current["recent"], turn][-keep:],
        "updated_at": at,
    }


def end_conversation(transcript: dict[str, Any] | None, *, at: str, topic: str) -> dict[str, Any]:
    """The transcript marked as ended (idempotent)."""
    current = transcript or {"turns": 0, "recent": [], "topic": topic}
    return {**current, "ended": True, "ended_at": current.get("ended_at") or at}


def record_history(
    transcript: dict[str, Any] | None,
    *,
    event_id: str,
    at: str,
    topic: str,
    history: list[dict[str, str]],
    keep: int = RECENT_TURNS,
) -> dict[str, Any]:
    """The transcript with a conversation the front end asked to memorize.

    Kept durably so consolidation can run on it; idempotent by ``event_id``.
    """
    current = transcript or {"turns": 0, "recent": [], "ended": False, "topic": topic}
    memorized = current.get("memorized", [])
    if any(m["event_id"] == event_id for m in memorized):
        return current
    entry = {"event_id": event_id, "at": at, "topic": topic, "history": history[-2 * keep :]}
    return {**current, "memorized": [*memorized, entry][-keep:], "updated_at": at}


def mark_consolidated(transcript: dict[str, Any]) -> dict[str, Any]:
    """The transcript with every turn so far consolidated (so idleness asks for nothing more)."""
    return {**transcript, "consolidated_turns": transcript["turns"]}


def idle_unconsolidated(transcript: dict[str, Any], *, idle_before: str) -> bool:
    """Turns not yet consolidated, and the last one older than ``idle_before`` (RFC 3339)."""
    pending = transcript["turns"] > transcript.get("consolidated_turns", 0)
    return pending and transcript.get("updated_at", "") < idle_before
