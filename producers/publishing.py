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

from producers.metrics import ApiMetrics
from producers.models import EventAccepted
from producers.publisher import Publisher
from producers.status_client import AcceptedTasks
from schemas.envelope import Envelope, new_envelope
from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus, task_id, tasks_for

log = logging.getLogger(__name__)


async def publish_with_tasks(
    publisher: Publisher,
    envelope: Envelope[Any],
    accepted: AcceptedTasks | None = None,
    metrics: ApiMetrics | None = None,
) -> EventAccepted:
    now = datetime.now(UTC)
    queued = [
        TaskStatusChanged(
            task_id=task_id(task_type, envelope.id),
            task_type=task_type,
            status=TaskStatus.QUEUED,
            at=now,
            event_id=envelope.id,
            event_type=envelope.type,
            session_id=getattr(envelope.data, "session_id", None),
        )
        for task_type in tasks_for(envelope.type)
    ]
    sent, statuses = await asyncio.gather(
        publisher.publish(envelope),
        publisher.publish_all(new_envelope(change, source="api") for change in queued),
        return_exceptions=True,
    )
    if isinstance(sent, BaseException):
        raise sent
    if isinstance(statuses, BaseException):
        log.warning("queued status of event %s not recorded: %s", envelope.id, statuses)
    if accepted is not None:
        for change in queued:
            accepted.add(change)
    if metrics is not None:
        metrics.published.labels(envelope.type).inc()
    return EventAccepted(
        event_id=envelope.id,
        topic=sent.topic,
        partition=sent.partition,
        offset=sent.offset,
        task_ids=[change.task_id for change in queued],
    )
