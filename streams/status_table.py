"""The ``task_status`` table: status events folded per task, and its web route.

The table is written only here, from the status topic, which is keyed by task
id like the table's changelog, so each worker holds exactly the tasks of the
status partitions it owns; the web route forwards a lookup to the worker that
owns the task's partition, so any worker answers for any task.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
from faust.types import EventT
from faust.web import Request, Response, View

from feynman.errors import DecodeError
from schemas.envelope import decode, encode, new_envelope
from schemas.events import TaskExpired, TaskStatusChanged
from schemas.status import expired, fold
from streams.expiry import rows
from streams.runtime import Runtime
from streams.timers import guarded_timer

log = logging.getLogger(__name__)


def install(rt: Runtime) -> faust.Table:
    """Declare the table, the agent that folds into it and its web route."""
    app = rt.app
    source = rt.topics.task_status
    table = rt.table(
        "task_status",
        rt.topics.task_status_changelog,
        help="Latest status of every task, folded from task.status events.",
    )

    async def fold_one(event: EventT[Any]) -> None:
        try:
            envelope = decode(event.value)
            if not isinstance(envelope.data, TaskStatusChanged | TaskExpired):
                raise DecodeError("wrong_topic", f"{envelope.type} events do not belong on {source.name}")
        except DecodeError as exc:
            await rt.poison(event, exc.reason, exc.message)
            return
        change = envelope.data
        if isinstance(change, TaskExpired):
            if expired(table.get(change.task_id), change.finished_before):
                del table[change.task_id]  # a tombstone in the changelog
            return
        new = fold(table.get(change.task_id), change)
        if new is not None:
            table[change.task_id] = new

    rt.serial_agent(source, "fold_task_status", fold_one)

    retention = timedelta(seconds=rt.settings.status_retention_s)

    @guarded_timer(app, max(1.0, min(3600.0, rt.settings.status_retention_s / 10)), name="expire_task_status")
    async def expire_task_status() -> None:
        # Tables cannot be written from a timer (no event to take the partition
        # from): ask the fold agent, through the status topic, to delete.
        cutoff = datetime.now(UTC) - retention
        status = rt.topic(source)
        async for task_id, record in rows(table):
            if expired(record, cutoff):
                expiry = new_envelope(TaskExpired(task_id=task_id, finished_before=cutoff), source=rt.worker)
                await status.send(key=task_id, value=encode(expiry))

    @app.page("/tasks/{task_id}/")
    @app.table_route(table=table, match_info="task_id")
    async def task_status(web: View, request: Request, task_id: str) -> Response:
        record = table.get(task_id)
        if record is None:
            return web.json({"detail": f"unknown task {task_id}"}, status=404)
        return web.json(record)

    return table
