"""Fakes for calling task handlers directly: no Kafka, no Faust app."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from schemas.tasks import task_id
from streams.tasks import TaskContext


def context_for(task_type: str, event_id: str, *, attempt: int = 0) -> TaskContext:
    """The context the runtime gives the task of ``task_type`` for event ``event_id``."""
    return TaskContext(
        task_id=task_id(task_type, event_id), task_type=task_type, attempt=attempt, worker="test-worker"
    )


@dataclass
class RecordingPublish:
    """Stands in for ``publish_result`` bound to a topic: keeps what it was asked to publish."""

    calls: list[tuple[BaseModel, str]] = field(default_factory=list)

    async def __call__(self, payload: BaseModel, *, event_id: str) -> str:
        self.calls.append((payload, event_id))
        return f"results/{event_id}"
