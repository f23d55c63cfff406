"""``GET /sessions/{session_id}/tasks``: every task of a session, and one state for the group."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from producers.models import Problem, SessionTask, SessionTasks
from producers.status_client import StatusClient
from schemas.events import SessionId
from schemas.status import aggregate_state

router = APIRouter(tags=["sessions"])

LOOKUP_CONCURRENCY = 16


@router.get(
    "/sessions/{session_id}/tasks",
    response_model=SessionTasks,
    responses={503: {"model": Problem, "description": "No worker answered; retry later"}},
)
async def session_tasks(request: Request, session_id: Annotated[SessionId, Path()]) -> SessionTasks:
    """The session's tasks (most recent 500), each with its status, and their aggregate state."""
    status: StatusClient = request.app.state.status_client
    indexed = await status.session_tasks(session_id)
    known = {t["task_id"] for t in indexed}
    # Accepted here but not yet indexed by a worker.
    pending = [
        {
            "task_id": r["task_id"],
            "task_type": r["name"],
            "event_id": r["event_id"],
            "event_type": r["event_type"],
        }
        for r in request.app.state.accepted.for_session(session_id)
        if r["task_id"] not in known
    ]
    entries = indexed + pending
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def with_status(entry: dict[str, Any]) -> SessionTask:
        async with gate:
            record = await status.get(entry["task_id"]) or request.app.state.accepted.get(entry["task_id"])
        record = record or {"status": "queued"}
        return SessionTask(
            task_id=entry["task_id"],
            task_type=entry["task_type"],
            event_id=entry.get("event_id"),
            event_type=entry.get("event_type"),
            status=record["status"],
            created_at=record.get("created_at"),
            completed_at=record.get("completed_at"),
            error=record.get("error"),
        )

    tasks = list(await asyncio.gather(*(with_status(e) for e in entries)))
    statuses = [t.status for t in tasks]
    return SessionTasks(
        session_id=session_id,
        state=aggregate_state(statuses),  # type: ignore[arg-type]
        counts=dict(Counter(statuses)),
        tasks=tasks,
    )
