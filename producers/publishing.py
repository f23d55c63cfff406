"""Publishing an event together with the ``queued`` status of the tasks it triggers.

Both are sent at once, so the caller waits for one round trip to Kafka, not
two. Only the event decides the answer: if Kafka takes it but a queued status
is lost, the task still runs and reports its own status; if the event is
refused, the caller gets an error and never learns the task ids, and a stray
``queued`` status that Kafka did take expires with the status retention.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from producers.models import EventAccepted
from producers.publisher import Publisher
from producers.status_client import AcceptedTasks
from schemas.envelope import Envelope, new_envelope
from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus, task_id, tasks_for

log = logging.getLogger(__name__)


async def publish_with_tasks(
    publisher: Publisher, envelope: Envelope[Any], accepted: AcceptedTasks | None = None
) -> EventAccepted:
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
    sent, queued = await asyncio.gather(
        publisher.publish(envelope), publisher.publish_all(statuses), return_exceptions=True
    )
    if isinstance(sent, BaseException):
        raise sent
    if isinstance(queued, BaseException):
        log.warning("queued status of event %s not recorded: %s", envelope.id, queued)
    if accepted is not None:
        for task_type, tid in zip(tasks_for(envelope.type), ids, strict=True):
            accepted.add(tid, task_type, envelope.id, envelope.type, session_id)
    where = sent
    return EventAccepted(
        event_id=envelope.id, topic=where.topic, partition=where.partition, offset=where.offset, task_ids=ids
    )
