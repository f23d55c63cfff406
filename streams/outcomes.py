"""The records that say how work ended: each task's status row, and dead letters.

A status row is the task's one record of its progress and its completion
marker (a redelivery whose row says ``completed`` is skipped); a dead letter
keeps a record that could not be processed, with its reason, for requeueing.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from faust.types import EventT

from foundation.errors import DecodeError
from schemas.envelope import Envelope, encode, new_envelope
from schemas.events import DeadLetter, TaskStatusChanged
from schemas.tasks import INTAKE_TASK, TaskStatus, task_id
from schemas.topics import Topics, TopicSpec
from streams.expiry import current_partition
from streams.intake import Origin
from streams.status_table import StatusTable
from streams.task_metrics import TaskMetrics
from streams.writes import collecting

log = logging.getLogger(__name__)

# A dead letter keeps the original record whole up to this size, else a preview
# of PREVIEW_BYTES: base64 grows it by a third, and a request must stay under 1 MB.
DEAD_LETTER_WHOLE_BYTES = 512 * 1024
PREVIEW_BYTES = 4096
# Sends ``value`` to the declared topic with ``key`` and returns once Kafka acknowledged it.
Send = Callable[[TopicSpec, "str | None", bytes], Awaitable[None]]


@dataclass
class Outcomes:
    """Writes status rows and dead letters for the worker ``worker``."""

    worker: str
    metrics: TaskMetrics
    topics: Topics
    send: Send
    # The current rebalance's signal: a write still waiting for Kafka stops waiting when it is set.
    given_up: Callable[[], asyncio.Event]
    # The task_status table (streams/status_table.py installs it).
    statuses: StatusTable | None = None

    @property
    def table(self) -> StatusTable:
        assert self.statuses is not None, "status_table.install(rt) declares the task_status table"
        return self.statuses

    def record_status(
        self,
        tid: str,
        task_type: str,
        envelope: Envelope[Any] | None,
        status: TaskStatus,
        *,
        attempt: int = 0,
        error: str | None = None,
        result_ref: str | None = None,
        started_at: datetime | None = None,
    ) -> None:
        """Record one status transition as the task's row; its send joins the current work's writes.

        Written in the partition of the event being processed (the task's input),
        unless the row already holds a transition that supersedes it.
        """
        self.metrics.transitions[status.value, task_type] += 1
        change = TaskStatusChanged(
            task_id=tid,
            task_type=task_type,
            status=status,
            at=datetime.now(UTC),
            event_id=envelope.id if envelope else tid,
            event_type=envelope.type if envelope else "unknown",
            session_id=getattr(envelope.data, "session_id", None) if envelope else None,
            attempt=attempt,
            worker=self.worker,
            error=error[:4000] if error else None,
            result_ref=result_ref,
            replay_id=envelope.replay_id if envelope else None,
            created_at=envelope.ts if envelope else None,
            started_at=started_at,
            partition=current_partition(self.table.table, tid),
        )
        self.table.record(new_envelope(change, source=self.worker))

    async def status(self, *args: Any, wait: bool = False, **kwargs: Any) -> None:
        """:meth:`record_status`; with ``wait``, return once Kafka acknowledged the row."""
        if not wait:
            self.record_status(*args, **kwargs)
            return
        with collecting() as writes:
            self.record_status(*args, **kwargs)
            await writes.durable(self.given_up())

    async def poison(self, event: EventT[Any], reason: str, error: str) -> str:
        """Dead-letter a record that cannot be read; returns its (position-derived) task id."""
        msg = event.message
        poison_id = task_id(INTAKE_TASK, f"{msg.topic}/{msg.partition}/{msg.offset}")
        await self.dead_letter(
            Origin.of(event), reason=reason, error=error, task_type=INTAKE_TASK, task_id=poison_id
        )
        return poison_id

    async def dead_letter(
        self,
        origin: Origin,
        *,
        reason: str,
        error: str,
        task_type: str,
        task_id: str,
        envelope: Envelope[Any] | None = None,
        attempts: int = 0,
        tb: str | None = None,
    ) -> None:
        """Publish the record to the dead-letter topic and wait for Kafka's ack."""
        # A record too large to copy whole keeps a preview: the letter must fit one request.
        kept = origin.raw if len(origin.raw) <= DEAD_LETTER_WHOLE_BYTES else origin.raw[:PREVIEW_BYTES]
        letter = DeadLetter(
            reason=reason,
            error=error[:4000],
            origin_topic=origin.topic,
            origin_partition=origin.partition,
            origin_offset=origin.offset,
            original_b64=base64.b64encode(kept).decode("ascii"),
            original_key=origin.key,
            original_bytes=len(origin.raw),
            event_id=envelope.id if envelope else None,
            event_type=envelope.type if envelope else None,
            task_type=task_type,
            task_id=task_id,
            attempts=attempts,
            traceback=tb[-16000:] if tb else None,
        )
        log.warning("dead letter from %s[%d]@%d: %s", origin.topic, origin.partition, origin.offset, reason)
        value = encode(new_envelope(letter, source=self.worker))
        await self.send(self.topics.dead_letter, origin.key, value)

    async def dead(
        self,
        task_type: str,
        envelope: Envelope[Any],
        origin: Origin,
        *,
        reason: str,
        error: str,
        attempt: int = 0,
        attempts: int = 0,
        tb: str | None = None,
    ) -> None:
        """Dead-letter a task's input, then mark the task ``dead``; both acknowledged."""
        tid = task_id(task_type, envelope.id)
        await self.dead_letter(
            origin,
            reason=reason,
            error=error,
            task_type=task_type,
            task_id=tid,
            envelope=envelope,
            attempts=attempts,
            tb=tb,
        )
        await self.status(tid, task_type, envelope, TaskStatus.DEAD, attempt=attempt, error=error, wait=True)

    async def reject(self, event: EventT[Any], exc: DecodeError) -> None:
        """Dead-letter a poison record and mark its intake task invalid."""
        poison_id = await self.poison(event, exc.reason, exc.message)
        await self.status(poison_id, INTAKE_TASK, None, TaskStatus.INVALID, error=exc.message, wait=True)
