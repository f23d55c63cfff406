"""Request and response bodies of the HTTP API, with the examples OpenAPI shows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_EVENT = {
    "type": "chat.turn",
    "v": 1,
    "data": {
        "session_id": "s-42",
        "topic": "photosynthesis",
        "user_input": "Plants turn sunlight into sugar, kind of like a solar panel.",
    },
}


class EventIn(BaseModel):
    """An envelope (DESIGN.md contract 2). ``id`` and ``ts`` are filled in when absent."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_EVENT]})

    type: str = Field(min_length=1, max_length=64)
    v: int = Field(ge=1)
    data: dict[str, Any]
    id: str | None = Field(None, min_length=1, max_length=64)
    ts: str | None = Field(None, description="RFC 3339 with a time zone; now when absent")
    trace_id: str | None = Field(None, max_length=128)
    source: str | None = Field(None, max_length=128)


class EventAccepted(BaseModel):
    """Kafka acknowledged the event; these tasks will run for it."""

    event_id: str
    topic: str
    partition: int
    offset: int
    task_ids: list[str] = Field(description="Ids of the tasks the event triggers, queryable at /task/{id}")


class TaskRecord(BaseModel):
    """A task's status (the seed service's shape, plus where it came from)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "task_id": "10a8e2ad-f6d3-59d1-807a-b149d95f4305",
                    "name": "transcript",
                    "status": "completed",
                    "created_at": "2026-11-28T11:30:10.957736Z",
                    "started_at": "2026-11-28T11:30:10.957736Z",
                    "completed_at": "2026-11-28T11:30:10.958634Z",
                    "retry_count": 0,
                    "error": None,
                    "event_id": "01a221eb-5464-71c4-b1e2-c4aa5ef8f7b0",
                    "event_type": "chat.turn",
                    "session_id": "s-42",
                }
            ]
        }
    )

    task_id: str
    name: str
    status: str = Field(description="queued, running, retrying, completed, dead, invalid or skipped")
    created_at: str | None
    started_at: str | None
    completed_at: str | None
    retry_count: int
    error: str | None
    event_id: str | None = None
    event_type: str | None = None
    session_id: str | None = None
    worker: str | None = None
    result_ref: str | None = None
    updated_at: str | None = None


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str
    reason: str | None = None


class Health(BaseModel):
    status: str
