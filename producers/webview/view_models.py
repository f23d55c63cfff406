"""Bodies of the web view's JSON endpoints (``/ui/api/...``), as OpenAPI shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from producers.api_models import TaskRecord


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(
        min_length=1,
        max_length=512,
        description="One of FEYNMAN_API_KEYS, FEYNMAN_API_KEYS_WRITE or FEYNMAN_API_KEYS_READ",
    )


class ViewSession(BaseModel):
    """Who the caller is to the view, and the token the requeue action needs."""

    mode: Literal["development", "production"]
    via: Literal["development", "api_key", "session"]
    role: Literal["read", "write", "admin"] = Field(description="Only admin may requeue dead letters")
    csrf_token: str | None = Field(description="Send as X-CSRF-Token on POST /ui/api/dead-letters/requeue")


class TaskPage(BaseModel):
    total: int = Field(description="Tasks matching the filters (among those the view keeps)")
    offset: int
    limit: int
    items: list[TaskRecord]


class TypeStatusCount(BaseModel):
    task_type: str
    status: str
    count: int


class ReadModelState(BaseModel):
    connected: bool
    error: str | None
    records_read: int
    records_behind: int | None = Field(description="Records on the topics not read yet; 0 when caught up")
    undecodable: int


class Summary(BaseModel):
    by_status: dict[str, int]
    by_type: dict[str, int]
    by_type_status: list[TypeStatusCount]
    tasks_kept: int
    tasks_capacity: int
    tasks_evicted: int
    dead_letters_seen: int
    read_model: ReadModelState


class TypeLatency(BaseModel):
    task_type: str
    count: int
    p50_s: float
    p95_s: float
    p99_s: float


class ThroughputSeries(BaseModel):
    minutes: list[str] = Field(description="Start of each minute (UTC), oldest first")
    per_type: dict[str, list[int]] = Field(description="Tasks finished per minute, by task type")


class Stats(BaseModel):
    window_minutes: int
    latency: list[TypeLatency]
    throughput: ThroughputSeries


class PartitionLagOut(BaseModel):
    topic: str
    partition: int
    committed: int | None
    end: int | None
    lag: int | None


class LagReport(BaseModel):
    group: str
    total_lag: int
    partitions: list[PartitionLagOut]
    error: str | None = Field(None, description="Why the offsets could not be read, if they could not")
    worker: str | None = Field(
        None, description="The worker's /health/: 'ok', or why not (behind, stalled, starting, absent)"
    )


class DeadLetterOut(BaseModel):
    id: str
    at: str
    partition: int
    offset: int
    reason: str
    error: str
    origin_topic: str
    origin_partition: int
    origin_offset: int
    original_key: str | None
    original_size: int
    original_preview: str = Field(description="The start of the original record, as text")
    event_id: str | None
    event_type: str | None
    task_type: str | None
    task_id: str | None
    attempts: int
    traceback: str | None


class DeadLetterList(BaseModel):
    total_seen: int
    kept: int
    by_reason: dict[str, int]
    items: list[DeadLetterOut]


class RequeueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=500, description="Dead letter ids (DeadLetterOut.id)")


class Refusal(BaseModel):
    id: str
    reason: str


class RequeueResponse(BaseModel):
    requeued: int
    refused: list[Refusal]
    failed: list[Refusal]
    unknown: list[str] = Field(description="Ids the view does not hold (never seen, or dropped as old)")
