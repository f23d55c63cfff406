"""The ``session_tasks`` table and its route: every task a session triggered.

Written from the conversations agent, so it is co-partitioned with the
conversations topic (keyed by session); the route forwards a lookup to the
worker that owns the session's partition.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View

from schemas.envelope import Envelope, rfc3339
from streams.domain.session_tasks import add_tasks
from streams.runtime import Runtime


def install(rt: Runtime) -> faust.Table:
    table = rt.table(
        "session_tasks",
        rt.topics.session_tasks_changelog,
        help="Per session: the most recent tasks its events triggered.",
    )
    rt.expiry.register_session_table(table)

    async def index(envelope: Envelope[Any], tasks: list[tuple[str, str]]) -> None:
        session_id = getattr(envelope.data, "session_id", None)
        if not session_id or not tasks:
            return
        at = rfc3339(envelope.ts)
        entries = [
            {"task_id": tid, "task_type": t, "event_id": envelope.id, "event_type": envelope.type, "at": at}
            for t, tid in tasks
        ]
        new = add_tasks(table.get(session_id), entries)
        if new is not None:
            table[session_id] = new

    rt.on_accept.append(index)

    @rt.app.page("/sessions/{session_id}/tasks/")
    @rt.app.table_route(table=table, match_info="session_id")
    async def session_tasks(web: View, request: Request, session_id: str) -> Response:
        return web.json(table.get(session_id) or {"tasks": []})

    return table
