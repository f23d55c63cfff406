"""The task status state machine, folded from status events.

Pure and deterministic so the worker's table, the API and the tests all agree
on one rule: a late or duplicated status event never moves a task backwards.
Order is by ``(attempt, phase)``; a terminal status absorbs everything after it.

Above that sits the generation (``replay_id``): the first run is generation
``None``, each ``feynman replay`` a later one, ordered by its UUIDv7 id. A
transition of a newer generation restarts the task, even a finished one; a
transition of an older generation, however late, changes nothing.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from schemas.envelope import Envelope, rfc3339
from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus, task_id, tasks_for

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


def generation(replay_id: str | None) -> tuple[int, str]:
    """The sort key of a run: the first run before every replay, replays by id (UUIDv7: by start)."""
    return (0, "") if replay_id is None else (1, replay_id)


@functools.lru_cache(maxsize=4096)
def _iso(at: datetime) -> str:
    # Fixed width (microseconds always present), so the strings sort like the times. Cached:
    # a fold formats the same few times several times, and read models fold every record.
    return rfc3339(at)


def fold(current: dict[str, Any] | None, change: TaskStatusChanged) -> dict[str, Any] | None:
    """Apply ``change`` to the stored record ``current``.

    Returns the new record, or ``None`` when the change alters nothing (a
    duplicate), so the caller writes nothing and the changelog stays quiet. A
    stale change never moves the status, but may still fill in when the task
    was created or started: with two producers, ``completed`` can arrive first.
    """
    if current is None:
        record = _new_record(change)
    elif generation(change.replay_id) < generation(current.get("replay_id")):
        return None  # a late transition of a run a replay has superseded
    elif generation(change.replay_id) > generation(current.get("replay_id")):
        record = _restart(current, change)
    else:
        if not _advances(TaskStatus(current["status"]), current["retry_count"], change):
            filled = _fill_times(dict(current), change)
            return filled if filled != current else None
        record = dict(current)
    record["status"] = change.status.value
    record["retry_count"] = change.attempt
    record["updated_at"] = _iso(change.at)
    if change.status.terminal:
        record["completed_at"] = _iso(change.at)
    if change.worker is not None:
        record["worker"] = change.worker
    if change.error is not None:
        record["error"] = change.error
    if change.result_ref is not None:
        record["result_ref"] = change.result_ref
    return _fill_times(record, change)


def queued(envelope: Envelope[Any]) -> list[TaskStatusChanged]:
    """The ``queued`` state of every task an acknowledged event triggers, as of the event's time.

    Not a record anyone writes: the acknowledged event is its tasks' queued
    state, and whoever reads the event (the API that published it, every read
    model) derives the same transitions from it.
    """
    # Built without validation: every field comes from an envelope validated already.
    return [
        TaskStatusChanged.model_construct(
            task_id=task_id(task_type, envelope.id),
            task_type=task_type,
            status=TaskStatus.QUEUED,
            at=envelope.ts,
            event_id=envelope.id,
            event_type=envelope.type,
            session_id=getattr(envelope.data, "session_id", None),
            replay_id=envelope.replay_id,
            created_at=envelope.ts,
        )
        for task_type in tasks_for(envelope.type)
    ]


def supersedes(current: TaskStatusChanged | None, change: TaskStatusChanged) -> bool:
    """Whether ``change`` moves a task whose latest transition is ``current`` (never backwards).

    For a store that keeps only the latest transition of each task: a newer
    generation always wins, an older one never; within one, a terminal status
    absorbs everything after it, and otherwise the later ``(attempt, phase)`` wins.
    """
    if current is None:
        return True
    if generation(change.replay_id) != generation(current.replay_id):
        return generation(change.replay_id) > generation(current.replay_id)
    return _advances(current.status, current.attempt, change)


def _advances(status: TaskStatus, attempt: int, change: TaskStatusChanged) -> bool:
    """Within one generation: a terminal status absorbs everything; otherwise the later
    ``(attempt, phase)`` wins."""
    return not status.terminal and _rank(change.status, change.attempt) > _rank(status, attempt)


def _restart(current: dict[str, Any], change: TaskStatusChanged) -> dict[str, Any]:
    """A new generation: same task and creation time, everything about the last run cleared."""
    record = dict(current)
    record.update(
        replay_id=change.replay_id,
        started_at=None,
        completed_at=None,
        error=None,
        result_ref=None,
        worker=None,
    )
    return record


def _new_record(change: TaskStatusChanged) -> dict[str, Any]:
    return {
        "task_id": change.task_id,
        "name": change.task_type,
        "event_id": change.event_id,
        "event_type": change.event_type,
        "session_id": change.session_id,
        "created_at": _iso(change.created_at or change.at),
        "started_at": None,
        "completed_at": None,
        "error": None,
        "worker": None,
        "result_ref": None,
        "replay_id": change.replay_id,
    }


def _fill_times(record: dict[str, Any], change: TaskStatusChanged) -> dict[str, Any]:
    """The earliest creation reported (an event's ``created_at``, else its time) is the creation;
    the earliest start reported (``running``, or an outcome's ``started_at``) is the start."""
    at = _iso(change.at)
    created = _iso(change.created_at) if change.created_at is not None else at
    if created < record["created_at"]:
        record["created_at"] = created
    started = _iso(change.started_at) if change.started_at is not None else None
    if started is None and change.status is TaskStatus.RUNNING:
        started = at
    if started is not None and (record["started_at"] is None or started < record["started_at"]):
        record["started_at"] = started
    return record


def aggregate_state(statuses: list[str]) -> str:
    """One word for a group of tasks, as a front end shows it.

    ``queued`` until one starts, ``running`` while any is unfinished,
    ``completed`` when all finished well, ``failed`` when all finished and any
    was dead or invalid, ``empty`` for no tasks.
    """
    if not statuses:
        return "empty"
    states = [TaskStatus(s) for s in statuses]
    if all(s is TaskStatus.QUEUED for s in states):
        return "queued"
    if not all(s.terminal for s in states):
        return "running"
    failed = any(s in (TaskStatus.DEAD, TaskStatus.INVALID) for s in states)
    return "failed" if failed else "completed"


def expired(record: dict[str, Any] | None, finished_before: datetime) -> bool:
    """Whether a stored record is finished and finished before ``finished_before``.

    A task that ran again since (a replay) is not finished, or finished later,
    so a late expiry never deletes work still in progress.
    """
    if record is None or not TaskStatus(record["status"]).terminal:
        return False
    finished = record.get("completed_at") or record["created_at"]
    return bool(finished < _iso(finished_before))
