"""The ``task_status`` table: each task's latest transition, written once where it is read.

The runtime records a task's status as a row of this table while it processes
the task's input, so the row lands in the changelog partition of that input,
and Faust restores it for the partition's next owner before that owner takes
input: the row is also the completion marker a redelivered event is checked
against. Its changelog is the status topic itself, so one ``task.status``
envelope per transition is all a task costs, readable by any Kafka client,
and nothing is consumed back on the hot path. Each row is one self-contained
transition (``task.status`` v3 says when the task was queued and started and
where it lives), so the row is the folded status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from faust.serializers import codecs
from faust.web import Request, Response, View

from foundation.errors import DecodeError
from schemas.envelope import Envelope, decode, encode
from schemas.events import TaskStatusChanged
from schemas.status import expired, fold, supersedes

if TYPE_CHECKING:
    from streams.runtime import Runtime

CODEC = "feynman-envelope"


class EnvelopeCodec(codecs.Codec):
    """Table values that are envelopes: kept decoded in memory, written as their JSON."""

    def _dumps(self, obj: Any) -> bytes:
        return encode(obj)

    def _loads(self, s: bytes) -> Any:
        return decode(s)


codecs.register(CODEC, EnvelopeCodec())


class StatusTable:
    """Task id → the envelope of its latest recorded transition."""

    def __init__(self, rt: Runtime) -> None:
        self.table = rt.table(
            "task_status",
            rt.topics.task_status,
            help="Each task's latest status transition; the changelog is the status topic.",
            value_serializer=CODEC,
        )

    def change(self, task_id: str) -> TaskStatusChanged | None:
        envelope = self.table.get(task_id)
        return envelope.data if envelope is not None else None

    def row(self, task_id: str) -> dict[str, Any] | None:
        """The task's status as ``GET /task/{id}`` answers it."""
        change = self.change(task_id)
        return fold(None, change) if change is not None else None

    def record(self, envelope: Envelope[TaskStatusChanged]) -> bool:
        """Write the transition unless the stored one already supersedes it (never backwards)."""
        change = envelope.data
        if not supersedes(self.change(change.task_id), change):
            return False
        self.table[change.task_id] = envelope
        return True

    def rewrite(self, task_id: str) -> None:
        """Send the stored row again (its earlier send may be the one Kafka refused)."""
        envelope = self.table.get(task_id)
        if envelope is not None:
            self.table[task_id] = envelope


def _pruner(retention_s: int) -> Callable[[Any, datetime], Any]:
    retention = timedelta(seconds=retention_s)

    def prune(envelope: Any, now: datetime) -> Any:
        return None if expired(fold(None, envelope.data), now - retention) else envelope

    return prune


def _partition_of(_key: str, envelope: Any) -> int | None:
    partition = getattr(envelope.data, "partition", None)
    return partition if isinstance(partition, int) else None


def install(rt: Runtime) -> StatusTable:
    """Declare the table, its expiry (``FEYNMAN_STATUS_RETENTION_S``) and its web route."""
    statuses = StatusTable(rt)
    rt.outcomes.statuses = statuses
    rt.expiry.register(statuses.table, _pruner(rt.settings.status_retention_s), _partition_of)

    @rt.page("/tasks/{task_id}/")
    async def task_status(web: View, request: Request, task_id: str) -> Response:
        # Rows live in their input's partition, not their key's: this worker answers
        # for the partitions it holds (the API's read model answers for all).
        try:
            record = statuses.row(task_id)
        except DecodeError:
            record = None
        if record is None:
            return web.json({"detail": f"unknown task {task_id}"}, status=404)
        return web.json(record)

    return statuses


__all__ = ["StatusTable", "install"]
