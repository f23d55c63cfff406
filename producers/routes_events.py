"""``POST /events``: publish one validated envelope into the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, status

from producers.api_models import PUBLISH_ERRORS, EventAccepted, EventIn, Problem
from producers.dependencies import AcceptedTasksDep, IdempotencyDep, MetricsDep, PublisherDep
from producers.idempotency import IDEMPOTENCY_KEY, idempotent
from producers.publishing import publish_with_tasks
from producers.refusals import RequestRefusedError
from schemas.envelope import decode_obj, rfc3339
from schemas.events import EXTERNAL_EVENT_TYPES
from schemas.registry import REGISTRY

router = APIRouter(tags=["events"])


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses={
        **PUBLISH_ERRORS,
        422: {
            "model": Problem,
            "description": "Not a valid envelope of a known type and version, or a type only the "
            "pipeline itself writes (`internal_type`)",
        },
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
    Only conversation events are taken: the other types are the pipeline's own records.
    """
    refuse_internal_type(body.type)

    async def handle(event_id: str) -> EventAccepted:
        raw = body.model_dump(exclude_none=True)
        raw.setdefault("id", event_id)
        raw.setdefault("ts", rfc3339(datetime.now(UTC)))
        envelope = decode_obj(raw)
        accepted = await publish_with_tasks(publisher, envelope, accepted_tasks, metrics)
        return accepted

    return await idempotent(cache, request, "/events", idempotency_key, handle)


def refuse_internal_type(event_type: str) -> None:
    """Refuse a known type that only the pipeline writes, before its payload is even read.

    Checked ahead of decoding so the answer names the real problem (a status or expiry
    record cannot come from outside at all), not a payload detail. An unknown type is left
    to the decoder, whose ``unknown_type`` already says what is wrong.
    """
    if event_type in EXTERNAL_EVENT_TYPES or REGISTRY.model_for(event_type) is None:
        return
    allowed = ", ".join(sorted(EXTERNAL_EVENT_TYPES))
    raise RequestRefusedError(
        422,
        "internal_type",
        f"event type {event_type!r} is written only by the pipeline itself; POST /events takes {allowed}",
    )
