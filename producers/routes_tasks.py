"""``GET /task/{task_id}``: a task's status, as the seed service answered it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request

from producers.models import Problem, TaskId, TaskRecord

router = APIRouter(tags=["tasks"])


@router.get(
    "/task/{task_id}",
    response_model=TaskRecord,
    responses={
        404: {"model": Problem, "description": "No such task"},
        503: {"model": Problem, "description": "No worker answered; retry later"},
    },
)
async def get_task(request: Request, task_id: Annotated[TaskId, Path()]) -> TaskRecord:
    """The folded status of one task, from whichever worker owns it."""
    record = await request.app.state.status_client.get(task_id)
    if record is None:
        # Accepted by Kafka here but not folded by a worker yet: it is queued.
        record = request.app.state.accepted.get(task_id)
    if record is None:
        raise HTTPException(404, f"unknown task {task_id}")
    return TaskRecord.model_validate(record)
