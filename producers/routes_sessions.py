"""``GET /sessions/{session_id}/tasks``: every task of a session, and one state for the group."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Path

from producers.api_models import SessionTask, SessionTasks
from producers.dependencies import StatusLookupDep
from schemas.events import SessionId
from schemas.status import aggregate_state

router = APIRouter(tags=["sessions"])


@router.get("/sessions/{session_id}/tasks", response_model=SessionTasks)
async def session_tasks(lookup: StatusLookupDep, session_id: Annotated[SessionId, Path()]) -> SessionTasks:
    """The session's tasks this API's read model holds (the most recent ``FEYNMAN_UI_MAX_TASKS``
    of all sessions), each with its status, and their aggregate state."""
    tasks = [
        SessionTask(
            task_id=record["task_id"],
            task_type=record["name"],
            event_id=record.get("event_id"),
            event_type=record.get("event_type"),
            status=record["status"],
            created_at=record.get("created_at"),
            completed_at=record.get("completed_at"),
            error=record.get("error"),
        )
        for record in lookup.session_records(session_id)
    ]
    statuses = [t.status for t in tasks]
    return SessionTasks(
        session_id=session_id,
        state=aggregate_state(statuses),  # type: ignore[arg-type]
        counts=dict(Counter(statuses)),
        tasks=tasks,
    )
