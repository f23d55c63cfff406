"""Publishing an event: the one record a request costs.

No ``queued`` status is written: the acknowledged event is the task's queued
state. Every API replica reads the input topics into its read model, so any of
them answers ``queued`` for the tasks an event triggers; the replica that
published it also remembers them at once (``AcceptedTasks``), before its read
model has read the event back.
"""

from __future__ import annotations

from typing import Any

from producers.api_models import EventAccepted
from producers.metrics import ApiMetrics
from producers.publisher import Publisher
from producers.status_client import AcceptedTasks
from schemas.envelope import Envelope
from schemas.status import queued


async def publish_with_tasks(
    publisher: Publisher,
    envelope: Envelope[Any],
    accepted: AcceptedTasks | None = None,
    metrics: ApiMetrics | None = None,
) -> EventAccepted:
    changes = queued(envelope)
    sent = await publisher.publish(envelope)
    if accepted is not None:
        for change in changes:
            accepted.add(change)
    if metrics is not None:
        metrics.published.labels(envelope.type).inc()
    return EventAccepted(
        event_id=envelope.id,
        topic=sent.topic,
        partition=sent.partition,
        offset=sent.offset,
        task_ids=[change.task_id for change in changes],
    )
