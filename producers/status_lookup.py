"""Where the API finds a task's status: its own read model first, a worker for older tasks.

Every replica's read model reads the input topics (an acknowledged event is
its tasks' ``queued`` state) and the status topic (each worker's recorded
transitions), so any replica answers for any task it has read. A task not
found there may be one this replica has not read yet: it waits, briefly, until
it has read every record Kafka held when asked (read-your-writes), so a task
whose event was acknowledged never reads 404. Tasks older than the read
model's memory are asked of a worker.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import State

from producers.status_client import StatusUnavailableError

# How long a lookup waits for this replica's read model to catch up with Kafka.
CATCH_UP_S = 2.0


async def task_record(state: State, task_id: str) -> dict[str, Any] | None:
    """The task's status, or None when it is unknown; StatusUnavailableError when that cannot be told."""
    tasks = state.read_model.tasks
    record: dict[str, Any] | None = tasks.get(task_id) or state.accepted.get(task_id)
    if record is not None:
        return record
    caught_up = await state.read_model_consumer.caught_up(CATCH_UP_S)
    record = tasks.get(task_id)
    if record is not None:
        return record
    try:
        record = await state.status_client.get(task_id)
    except StatusUnavailableError:
        if not caught_up or tasks.evicted:
            raise
        return None  # everything Kafka holds was read, and the read model forgot nothing
    if record is None and not caught_up:
        raise StatusUnavailableError("the status view is still reading the topics; retry")
    return record


def session_records(state: State, session_id: str) -> list[dict[str, Any]]:
    """The session's tasks this replica knows, oldest first."""
    records = {r["task_id"]: r for r in state.read_model.tasks.session(session_id)}
    for r in state.accepted.for_session(session_id):
        records.setdefault(r["task_id"], r)
    return sorted(records.values(), key=lambda r: (r["created_at"], r["task_id"]))
