"""``POST /events``: publish one validated envelope into the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, status

from producers.models import EventAccepted, EventIn, Problem
from producers.publishing import publish_with_tasks
from schemas.envelope import decode_obj, new_event_id, rfc3339

router = APIRouter(tags=["events"])


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses={
        413: {"model": Problem, "description": "Body too large"},
        422: {"model": Problem, "description": "Not a valid envelope of a known type and version"},
        503: {"model": Problem, "description": "Kafka did not acknowledge the event; retry later"},
    },
)
async def publish_event(body: EventIn, request: Request) -> EventAccepted:
    """Validate an envelope, publish it keyed by its ordering key, record its tasks as queued.

    Answers only after Kafka acknowledged the event (and its queued statuses).
    """
    raw = body.model_dump(exclude_none=True)
    raw.setdefault("id", new_event_id())
    raw.setdefault("ts", rfc3339(datetime.now(UTC)))
    envelope = decode_obj(raw)
    return await publish_with_tasks(request.app.state.publisher, envelope, request.app.state.accepted)
