"""``GET /task/{task_id}``: a task's status, as the seed service answered it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request

from producers.models import Problem, TaskId, TaskRecord
from producers.status_lookup import task_record

router = APIRouter(tags=["tasks"])


@router.get(
    "/task/{task_id}",
    response_model=TaskRecord,
    responses={
        404: {"model": Problem, "description": "No such task"},
        503: {
            "model": Problem,
            "description": "Not known yet: view catching up, no worker; retry",
        },
    },
)
async def get_task(request: Request, task_id: Annotated[TaskId, Path()]) -> TaskRecord:
    """The task's status: ``queued`` from its acknowledged event on, then what its worker recorded."""
    record = await task_record(request.app.state, task_id)
    if record is None:
        raise HTTPException(404, f"unknown task {task_id}")
    return TaskRecord.model_validate(record)
