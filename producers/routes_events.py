"""``POST /events``: publish one validated envelope into the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, status

from producers.api_models import PUBLISH_ERRORS, EventAccepted, EventIn, Problem
from producers.dependencies import AcceptedTasksDep, IdempotencyDep, MetricsDep, PublisherDep
from producers.idempotency import IDEMPOTENCY_KEY, idempotent
from producers.publishing import publish_with_tasks
from schemas.envelope import decode_obj, rfc3339

router = APIRouter(tags=["events"])


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses={
        **PUBLISH_ERRORS,
        422: {"model": Problem, "description": "Not a valid envelope of a known type and version"},
    },
)
async def publish_event(
    body: EventIn,
    request: Request,
    publisher: PublisherDep,
    accepted_tasks: AcceptedTasksDep,
    metrics: MetricsDep,
    cache: IdempotencyDep,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> EventAccepted:
    """Validate an envelope, publish it keyed by its ordering key, record its tasks as queued.

    Answers only after Kafka acknowledged the event (and its queued statuses).
    A missing ``id`` is generated (derived from the Idempotency-Key when given).
    """

    async def handle(event_id: str) -> EventAccepted:
        raw = body.model_dump(exclude_none=True)
        raw.setdefault("id", event_id)
        raw.setdefault("ts", rfc3339(datetime.now(UTC)))
        envelope = decode_obj(raw)
        accepted = await publish_with_tasks(publisher, envelope, accepted_tasks, metrics)
        return accepted

    return await idempotent(cache, request, "/events", idempotency_key, handle)
