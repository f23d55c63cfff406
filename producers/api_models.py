"""Request and response bodies of the HTTP API, with the examples OpenAPI shows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from schemas.events import SessionId, UserId, Utterance

TaskId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,64}$")]

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
    """An envelope (docs/architecture.md, contract 2). ``id`` and ``ts`` are filled in when absent."""

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
    """Why a request was refused: one sentence, a machine-readable reason, and per-field errors."""

    detail: str
    reason: str | None = None
    errors: list[dict[str, Any]] | None = None


# Every protected route can answer these (documented once, added by the app).
REQUEST_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not valid JSON"},
    401: {"model": Problem, "description": "Missing or invalid X-API-Key (production mode)"},
    422: {"model": Problem, "description": "Invalid request: `reason` and `errors` say what and where"},
}
# Routes above the lowest role (publishing, and the web view's requeue) can answer this too.
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "The API key's role is too low for this route (`forbidden`)"},
}
PUBLISH_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "Body too large"},
    422: {"model": Problem, "description": "Invalid request, or Idempotency-Key reused with another body"},
    503: {"model": Problem, "description": "Kafka did not acknowledge the event; retry later"},
}


class Health(BaseModel):
    status: str


class MemoryItem(BaseModel):
    """One turn of short-term memory, as the front end keeps and sends it back."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: Annotated[str, StringConstraints(max_length=20_000)]


class ChatRequest(BaseModel):
    """A learner's explanation (the seed service's /chat body)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "topic": "photosynthesis",
                    "session_id": "s-42",
                    "user_input": "Plants make food from sunlight, kind of like a solar panel.",
                    "short_term_memory": [],
                }
            ]
        },
    )

    topic: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    session_id: SessionId
    user_input: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    short_term_memory: list[MemoryItem | Annotated[str, StringConstraints(max_length=20_000)]] = Field(
        default_factory=list,
        max_length=200,
        description="Earlier turns as returned by the previous /chat; a plain string counts as a user turn.",
    )
    user_id: UserId | None = None

    @field_validator("user_input")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class ChatResponse(BaseModel):
    """The tutor's questions, the updated memory, and the ids of the background tasks."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "questions": ["You said “kind of like a solar panel” — what exactly is similar?"],
                    "session_id": "s-42",
                    "short_term_memory": [
                        {
                            "role": "user",
                            "content": "Plants make food from sunlight, kind of like a solar panel.",
                        },
                        {"role": "assistant", "content": "You said “kind of like a solar panel” — ..."},
                    ],
                    "background_task_id": "2de34b1d-544f-5643-8909-2c2a6bf6288e",
                    "task_ids": ["2de34b1d-544f-5643-8909-2c2a6bf6288e"],
                    "event_id": "01a221ec-bd99-73c1-9e7c-4bd2e5938ff6",
                    "language": "en",
                    "question_source": "local",
                }
            ]
        }
    )

    questions: list[str]
    session_id: str
    short_term_memory: list[MemoryItem]
    background_task_id: str = Field(description="The first background task of this turn (seed-service field)")
    task_ids: list[str] = Field(description="Every background task this turn triggered")
    event_id: str
    language: str
    question_source: Literal["local", "llm"]


class MemorizeRequest(BaseModel):
    """A conversation to consolidate into long-term memory (the seed service's /memorize body)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "topic": "photosynthesis",
                    "conversation_history": [
                        {"role": "user", "content": "Plants make food from sunlight."},
                        {"role": "assistant", "content": "What do they need besides light?"},
                    ],
                    "session_id": "s-42",
                }
            ]
        },
    )

    topic: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    conversation_history: list[Utterance] = Field(min_length=1, max_length=500)
    session_id: SessionId | None = None
    user_id: UserId | None = None


class MemorizeAccepted(BaseModel):
    message: str
    task_id: str
    task_ids: list[str]
    event_id: str


class SessionTask(BaseModel):
    task_id: str
    task_type: str
    event_id: str | None = None
    event_type: str | None = None
    status: str
    created_at: str | None = None
    completed_at: str | None = None
    error: str | None = None


class SessionTasks(BaseModel):
    """Every task a session's events triggered, with one aggregate state."""

    session_id: str
    state: Literal["empty", "queued", "running", "completed", "failed"]
    counts: dict[str, int]
    tasks: list[SessionTask]


class Readiness(BaseModel):
    """``GET /readyz``: the API is ready when it can publish (a broker answers, every topic exists).

    The worker is reported, never required: one that is behind or absent sets
    ``degraded`` and says why in ``checks.worker``, while ``status`` stays
    ``ready``: accepted events wait in Kafka until a worker takes them.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {"broker": "ok", "topics": "ok", "worker": "ok"},
                    "degraded": False,
                },
                {
                    "status": "ready",
                    "checks": {
                        "broker": "ok",
                        "topics": "ok",
                        "worker": "no worker answers at http://127.0.0.1:6066 (ConnectError)",
                    },
                    "degraded": True,
                },
            ]
        }
    )

    status: Literal["ready", "not_ready"] = Field(
        description="'ready' when a broker answers and every topic exists; the worker does not decide it"
    )
    checks: dict[str, str] = Field(description="Each dependency (broker, topics, worker): 'ok' or why not")
    degraded: bool = Field(
        False,
        description="True when the worker's check is not 'ok' (behind, stalled, starting or absent): "
        "events are still accepted and wait in Kafka",
    )
