"""Task identity and routing: which tasks an event triggers, and their ids.

A task is one task type's processing of one event. Its id is a UUIDv5 of the
task type and the event id, so the API can hand ids out before any worker has
seen the event, and a redelivered event maps to the same task.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

# Fixed forever: changing it would change every task id ever handed out.
TASK_NAMESPACE = uuid.UUID("6f1c6f53-2d7e-4a43-9a51-5b0f3c1e8a10")


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    COMPLETED = "completed"
    DEAD = "dead"
    INVALID = "invalid"
    SKIPPED = "skipped"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.DEAD, TaskStatus.INVALID, TaskStatus.SKIPPED})

# Task types that exist today, by the event types that trigger them. The worker
# runs exactly these; the API derives the task ids it returns from this table.
# Result events (analysis.completed, memory.consolidated) are keyed by learner
# and feed the per-learner task types: see docs/task-types.md.
TASK_ROUTES: dict[str, tuple[str, ...]] = {
    "chat.turn": ("transcript", "analysis", "consolidation"),
    "memory.requested": ("transcript", "consolidation"),
    "conversation.ended": ("transcript", "consolidation"),
    "llm.usage": ("costs",),
    "analysis.completed": ("progress", "vectors"),
    "memory.consolidated": ("memory", "vectors"),
}

# The task type that stands for a record that could not be decoded at all.
INTAKE_TASK = "intake"


def task_id(task_type: str, event_id: str) -> str:
    """The deterministic id of ``task_type`` processing the event ``event_id``."""
    return str(uuid.uuid5(TASK_NAMESPACE, f"{task_type}/{event_id}"))


def tasks_for(event_type: str) -> tuple[str, ...]:
    """Task types an event of ``event_type`` triggers (possibly none)."""
    return TASK_ROUTES.get(event_type, ())
