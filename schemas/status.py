"""The task status state machine, folded from status events.

Pure and deterministic so the worker's table, the API and the tests all agree
on one rule: a late or duplicated status event never moves a task backwards.
Order is by ``(attempt, phase)``; a terminal status absorbs everything after it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus

_PHASE = {
    TaskStatus.QUEUED: 0,
    TaskStatus.RUNNING: 1,
    TaskStatus.RETRYING: 2,
    TaskStatus.COMPLETED: 3,
    TaskStatus.SKIPPED: 3,
    TaskStatus.DEAD: 3,
    TaskStatus.INVALID: 3,
}


def _rank(status: TaskStatus, attempt: int) -> tuple[int, int]:
    # Terminal states outrank any attempt of a non-terminal one.
    if status.terminal:
        return (1 << 30, _PHASE[status])
    return (attempt, _PHASE[status])


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def fold(current: dict[str, Any] | None, change: TaskStatusChanged) -> dict[str, Any] | None:
    """Apply ``change`` to the stored record ``current``.

    Returns the new record, or ``None`` when the change is stale or a duplicate
    (so the caller writes nothing and the changelog stays quiet).
    """
    if current is not None:
        cur_status = TaskStatus(current["status"])
        if cur_status.terminal:
            return None
        if _rank(change.status, change.attempt) <= _rank(cur_status, current["retry_count"]):
            return None
    record: dict[str, Any] = (
        dict(current)
        if current
        else {
            "task_id": change.task_id,
            "name": change.task_type,
            "event_id": change.event_id,
            "event_type": change.event_type,
            "session_id": change.session_id,
            "created_at": _iso(change.at),
            "started_at": None,
            "completed_at": None,
            "error": None,
            "worker": None,
            "result_ref": None,
        }
    )
    record["status"] = change.status.value
    record["retry_count"] = change.attempt
    record["updated_at"] = _iso(change.at)
    if change.status is TaskStatus.RUNNING and record["started_at"] is None:
        record["started_at"] = _iso(change.at)
    if change.status.terminal:
        record["completed_at"] = _iso(change.at)
    if change.worker is not None:
        record["worker"] = change.worker
    if change.error is not None:
        record["error"] = change.error
    if change.result_ref is not None:
        record["result_ref"] = change.result_ref
    return record
