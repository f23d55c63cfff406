"""The short-term memory: what the learner said before and what the tutor already asked.

The tutor reads it to see terms explained in earlier turns, to catch contradictions
with them, and to avoid asking the same question twice; :func:`remember` keeps it
bounded so a long conversation costs no more than a short one.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.tutor.models import Turn


def remember(
    memory: Sequence[Turn], explanation: str, questions: Sequence[str], *, keep_turns: int
) -> list[Turn]:
    """The memory after this exchange: the learner's turn and the tutor's, bounded.

    The tutor's questions become one assistant turn, one question a line. The result
    keeps the newest stretch of the conversation holding at most ``keep_turns`` turns of
    each role (``keep_turns`` user+assistant pairs); older turns are dropped first.
    """
    if keep_turns < 0:
        raise ValueError(f"keep_turns must be >= 0, got {keep_turns}")
    turns = [
        *memory,
        Turn(role="user", content=explanation),
        Turn(role="assistant", content="\n".join(questions)),
    ]
    counts = {"user": 0, "assistant": 0}
    start = len(turns)
    for index in range(len(turns) - 1, -1, -1):
        role = turns[index].role
        if counts[role] == keep_turns:
            break
        counts[role] += 1
        start = index
    return turns[start:]


def earlier_explanations(memory: Sequence[Turn]) -> list[str]:
    """The learner's earlier turns, newest first (a contradiction with the latest matters most)."""
    return [turn.content for turn in reversed(memory) if turn.role == "user" and turn.content.strip()]


def asked_questions(memory: Sequence[Turn]) -> set[str]:
    """Every question the tutor already asked (one a line in its turns)."""
    return {
        line.strip()
        for turn in memory
        if turn.role == "assistant"
        for line in turn.content.splitlines()
        if line.strip()
    }
