"""The view's JSON endpoints: tasks, counts, statistics, lag, dead letters, and the requeue action.

Each answers from the in-memory read model (lag asks the broker), so the
page's polling costs no Kafka round trip but the lag one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Path, Query

from foundation.settings import Settings
from producers.api_models import REQUEST_ERRORS, Problem, TaskId, TaskRecord
from producers.dependencies import (
    PublisherDep,
    ReadModelConsumerDep,
    ReadModelDep,
    SettingsDep,
    StatusClientDep,
)
from producers.refusals import RequestRefusedError
from producers.requeue import requeue_dead_letters
from producers.webview import present
from producers.webview.auth import require_admin_viewer, require_csrf, require_viewer
from producers.webview.consumer import ReadModelConsumer
from producers.webview.index import TaskFilter
from producers.webview.lag import read_group_lag
from producers.webview.view_models import (
    DeadLetterList,
    LagReport,
    Refusal,
    RequeueRequest,
    RequeueResponse,
    Stats,
    Summary,
    TaskPage,
)
from schemas.envelope import rfc3339
from schemas.tasks import TaskStatus

log = logging.getLogger(__name__)

LAG_TIMEOUT_S = 5.0
AUTH_ERRORS = {
    **REQUEST_ERRORS,
    401: {"model": Problem, "description": "Not logged in and no valid X-API-Key (production)"},
}

router = APIRouter(
    prefix="/ui/api", tags=["web view"], dependencies=[Depends(require_viewer)], responses=AUTH_ERRORS
)


@router.get("/tasks", response_model=TaskPage)
async def tasks(
    model: ReadModelDep,
    status: Annotated[list[TaskStatus] | None, Query(description="Any of these statuses")] = None,
    task_type: Annotated[str | None, Query(max_length=64)] = None,
    session_id: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (RFC 3339)")] = None,
    until: Annotated[datetime | None, Query(description="Created before (RFC 3339)")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TaskPage:
    """Tasks newest first (by creation), filtered; ``total`` counts all matches."""
    where = TaskFilter(
        statuses=frozenset(s.value for s in status) if status else None,
        task_type=task_type or None,
        session_id=session_id or None,
        created_since=_utc(since),
        created_until=_utc(until),
    )
    page = model.tasks.page(where, offset=offset, limit=limit)
    return TaskPage(
        total=page.total, offset=offset, limit=limit, items=[present.task_record(r) for r in page.items]
    )


@router.get("/tasks/{task_id}", response_model=TaskRecord, responses={404: {"model": Problem}})
async def task(model: ReadModelDep, task_id: Annotated[TaskId, Path()]) -> TaskRecord:
    """One task, looked up by id in the view's read model."""
    record = model.tasks.get(task_id)
    if record is None:
        raise RequestRefusedError(404, "unknown_task", f"the view holds no task {task_id}")
    return present.task_record(record)


@router.get("/summary", response_model=Summary)
async def summary(model: ReadModelDep) -> Summary:
    """Counts per status and type, and how far the read model has read."""
    return present.summary(model)


@router.get("/stats", response_model=Stats)
async def stats(model: ReadModelDep, minutes: Annotated[int, Query(ge=1, le=60)] = 15) -> Stats:
    """Latency percentiles per task type and tasks finished per minute, over the last ``minutes``."""
    return present.stats(model, datetime.now(UTC), minutes)


@router.get("/lag", response_model=LagReport)
async def lag(
    settings: SettingsDep, status_client: StatusClientDep, consumer: ReadModelConsumerDep
) -> LagReport:
    """The workers' group lag per topic and partition, and the worker's health (``worker``: ``ok`` or
    why not); ``error`` says why if the broker did not answer."""
    report, worker = await asyncio.gather(_group_lag(settings, consumer), status_client.worker_health())
    return report.model_copy(update={"worker": worker.detail})


async def _group_lag(settings: Settings, consumer: ReadModelConsumer) -> LagReport:
    clients = consumer.clients
    if clients is None:
        return present.lag_report(settings.app_id, [], "not connected to Kafka")
    try:
        async with asyncio.timeout(LAG_TIMEOUT_S):
            rows = await read_group_lag(settings, *clients)
    except (KafkaError, TimeoutError, OSError) as exc:
        log.warning("lag not read: %r", exc)
        return present.lag_report(settings.app_id, [], f"offsets not read: {type(exc).__name__}")
    return present.lag_report(settings.app_id, rows)


@router.get("/dead-letters", response_model=DeadLetterList)
async def dead_letters(
    model: ReadModelDep,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeadLetterList:
    """The most recent dead letters (newest first), with reasons and the original records."""
    log_ = model.dead_letters
    return DeadLetterList(
        total_seen=log_.total,
        kept=len(log_),
        by_reason=dict(log_.reasons),
        items=[present.dead_letter(letter) for letter in log_.newest(limit, reason or None)],
    )


@router.post(
    "/dead-letters/requeue",
    response_model=RequeueResponse,
    dependencies=[Depends(require_admin_viewer), Depends(require_csrf)],
    responses={
        403: {
            "model": Problem,
            "description": "The key is not an admin key (`forbidden`), or the X-CSRF-Token is missing "
            "or wrong (`csrf`)",
        }
    },
)
async def requeue(model: ReadModelDep, body: RequeueRequest, publisher: PublisherDep) -> RequeueResponse:
    """Send the chosen dead letters' original records back to their origin topic, with their keys.

    Admin only: it publishes records anyone could have written into the dead-letter topic.

    Counts say what happened to each id; a letter Kafka did not take is in
    ``failed`` (retry it), one that may not be sent back in ``refused``.
    """
    ids = list(dict.fromkeys(body.ids))
    found = [(i, model.dead_letters.get(i)) for i in ids]
    result = await requeue_dead_letters(
        publisher, [(i, letter.letter) for i, letter in found if letter is not None]
    )
    return RequeueResponse(
        requeued=result.requeued,
        refused=[Refusal(id=i, reason=r) for i, r in result.refused],
        failed=[Refusal(id=i, reason=r) for i, r in result.failed],
        unknown=[i for i, letter in found if letter is None],
    )


def _utc(at: datetime | None) -> str | None:
    if at is None:
        return None
    return rfc3339(at if at.tzinfo else at.replace(tzinfo=UTC))
