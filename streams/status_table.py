"""The ``task_status`` table: status events folded per task, and its web route.

The table is written only here, from the status topic, which is keyed by task
id like the table's changelog, so each worker holds exactly the tasks of the
status partitions it owns; the web route forwards a lookup to the worker that
owns the task's partition, so any worker answers for any task.
"""

from __future__ import annotations

import logging

import faust
from faust.web import Request, Response, View

from feynman.errors import DecodeError
from schemas.envelope import decode
from schemas.events import TaskStatusChanged
from schemas.status import fold
from streams.runtime import Runtime

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

    @app.agent(rt.topic(source), name="fold_task_status")
    async def fold_task_status(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                envelope = decode(event.value)
                if not isinstance(envelope.data, TaskStatusChanged):
                    raise DecodeError("wrong_topic", f"{envelope.type} events do not belong on {source.name}")
            except DecodeError as exc:
                await rt.poison(event, exc.reason, exc.message)
                continue
            change = envelope.data
            new = fold(table.get(change.task_id), change)
            if new is not None:
                table[change.task_id] = new

    @app.page("/tasks/{task_id}/")
    @app.table_route(table=table, match_info="task_id")
    async def task_status(web: View, request: Request, task_id: str) -> Response:
        record = table.get(task_id)
        if record is None:
            return web.json({"detail": f"unknown task {task_id}"}, status=404)
        return web.json(record)

    return table
