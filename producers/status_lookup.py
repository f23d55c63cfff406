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

from dataclasses import dataclass
from typing import Any

from producers.status_client import AcceptedTasks, StatusClient, StatusUnavailableError
from producers.webview.consumer import ReadModelConsumer
from producers.webview.read_model import ReadModel

# How long a lookup waits for this replica's read model to catch up with Kafka.
CATCH_UP_S = 2.0


@dataclass(frozen=True, slots=True)
class StatusLookup:
    """The sources a lookup consults, held together so a route depends on one service, not four."""

    read_model: ReadModel
    accepted: AcceptedTasks
    consumer: ReadModelConsumer
    status_client: StatusClient

    async def task_record(self, task_id: str) -> dict[str, Any] | None:
        """The task's status, or None when it is unknown; StatusUnavailableError when that cannot be told."""
        tasks = self.read_model.tasks
        record: dict[str, Any] | None = tasks.get(task_id) or self.accepted.get(task_id)
        if record is not None:
            return record
        caught_up = await self.consumer.caught_up(CATCH_UP_S)
        record = tasks.get(task_id)
        if record is not None:
            return record
        try:
            record = await self.status_client.get(task_id)
        except StatusUnavailableError:
            if not caught_up or tasks.evicted:
                raise
            return None  # everything Kafka holds was read, and the read model forgot nothing
        if record is None and not caught_up:
            raise StatusUnavailableError("the status view is still reading the topics; retry")
        return record

    def session_records(self, session_id: str) -> list[dict[str, Any]]:
        """The session's tasks this replica knows, oldest first."""
        records = {r["task_id"]: r for r in self.read_model.tasks.session(session_id)}
        for r in self.accepted.for_session(session_id):
            records.setdefault(r["task_id"], r)
        return sorted(records.values(), key=lambda r: (r["created_at"], r["task_id"]))
