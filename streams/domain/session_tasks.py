"""Which tasks a session triggered: the index behind GET /sessions/{id}/tasks.

Bounded to the most recent tasks, and idempotent by task id, so a redelivered
event adds nothing.
"""

from __future__ import annotations

from typing import Any

KEEP_TASKS = 500


def add_tasks(
    index: dict[str, Any] | None,
    tasks: list[dict[str, str]],
    *,
    keep: int = KEEP_TASKS,
) -> dict[str, Any] | None:
    """The index with ``tasks`` appended; ``None`` when nothing is new."""
    current = index or {"tasks": []}
    known = {t["task_id"] for t in current["tasks"]}
    new = [t for t in tasks if t["task_id"] not in known]
    if not new:
        return None
    return {**current, "tasks": [*current["tasks"], *new][-keep:]}
