"""``GET /task/{task_id}``: a task's status, as the seed service answered it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from producers.api_models import Problem, TaskId, TaskRecord
from producers.dependencies import StatusLookupDep
from producers.refusals import RequestRefusedError

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
async def get_task(lookup: StatusLookupDep, task_id: Annotated[TaskId, Path()]) -> TaskRecord:
    """The task's status: ``queued`` from its acknowledged event on, then what its worker recorded."""
    record = await lookup.task_record(task_id)
    if record is None:
        raise RequestRefusedError(404, "unknown_task", f"unknown task {task_id}")
    return TaskRecord.model_validate(record)
