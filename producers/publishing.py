"""Publishing an event together with the ``queued`` status of the tasks it triggers.

The event goes first: if Kafka takes it but a queued status is lost, the task
still runs and reports its own status; the other order could announce a task
for an event that was never accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from producers.models import EventAccepted
from producers.publisher import Publisher
from producers.status_client import AcceptedTasks
from schemas.envelope import Envelope, new_envelope
from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus, task_id, tasks_for


async def publish_with_tasks(
    publisher: Publisher, envelope: Envelope[Any], accepted: AcceptedTasks | None = None
) -> EventAccepted:
    where = await publisher.publish(envelope)
    session_id = getattr(envelope.data, "session_id", None)
    now = datetime.now(UTC)
    statuses = []
    ids = []
    for task_type in tasks_for(envelope.type):
        tid = task_id(task_type, envelope.id)
        ids.append(tid)
        statuses.append(
            new_envelope(
                TaskStatusChanged(
                    task_id=tid,
                    task_type=task_type,
                    status=TaskStatus.QUEUED,
                    at=now,
                    event_id=envelope.id,
                    event_type=envelope.type,
                    session_id=session_id,
                    worker=None,
                ),
                source="api",
            )
        )
        if accepted is not None:
            accepted.add(tid, task_type, envelope.id, envelope.type, session_id)
    await publisher.publish_all(statuses)
    return EventAccepted(
        event_id=envelope.id, topic=where.topic, partition=where.partition, offset=where.offset, task_ids=ids
    )
