"""Payloads of every event type, one pydantic model per ``(type, v)``.

Models are frozen and forbid unknown fields: a field a producer invents is a
mistake to report, not data to drop silently. Sizes are bounded here so every
entry point (HTTP, ``feynman publish``, a worker reading kcat input) enforces
the same limits.

Every timestamp in a payload is an ``AwareDatetime``: it must carry a time zone,
like the envelope's ``ts``. The worker compares them with aware times (a naive
``due_at`` made the retry agent raise ``TypeError``) or renders them in UTC, so
a naive one is refused as ``invalid_payload``. The exported JSON Schemas said so
already (``format: date-time`` is RFC 3339, whose times always have an offset).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from schemas.registry import REGISTRY
from schemas.tasks import TaskStatus

SessionId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")]
TopicName = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Fields whose first non-empty value is the event's Kafka key: the thing
    # its consumers' state is ordered by (see schemas.envelope.ordering_key).
    ordering_fields: ClassVar[tuple[str, ...]] = ("session_id", "user_id")


class Utterance(Payload):
    """One line of a conversation as the seed service stored it."""

    role: Literal["user", "assistant", "system"]
    content: Annotated[str, StringConstraints(max_length=20_000)]


@REGISTRY.register("chat.turn", 1)
class ChatTurn(Payload):
    """A learner's explanation and the tutor's probing questions for one turn."""

    session_id: SessionId
    topic: TopicName
    user_input: Text
    user_id: UserId | None = None
    questions: list[Annotated[str, StringConstraints(max_length=2_000)]] = Field(
        default_factory=list, max_length=10
    )
    language: Annotated[str, StringConstraints(max_length=16)] | None = None


@REGISTRY.register("memory.requested", 1)
class MemoryRequested(Payload):
    """The front end asked to consolidate a conversation into long-term memory."""

    topic: TopicName
    conversation_history: list[Utterance] = Field(max_length=500)
    session_id: SessionId | None = None
    user_id: UserId | None = None


@REGISTRY.register("conversation.ended", 1)
class ConversationEnded(Payload):
    """A session closed; consolidation and analysis may finalise it."""

    session_id: SessionId
    topic: TopicName
    user_id: UserId | None = None
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


# The event types an outside producer may send (POST /events; docs/architecture.md, contract 3):
# the conversation events above. Every other type is the pipeline's own bookkeeping (statuses,
# retries, expiry requests, dead letters, results, usage), which a forged record could corrupt:
# a fake ``table.expiry`` prunes a learner's state, a fake ``task.status`` rewrites history.
EXTERNAL_EVENT_TYPES: frozenset[str] = frozenset({"chat.turn", "memory.requested", "conversation.ended"})


@REGISTRY.register("llm.usage", 1)
class LlmUsage(Payload):
    """One LLM call, as metered for cost aggregation."""

    ordering_fields: ClassVar[tuple[str, ...]] = ("user_id", "session_id")

    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    latency_ms: float = Field(ge=0)
    session_id: SessionId | None = None
    user_id: UserId | None = None
    purpose: Annotated[str, StringConstraints(max_length=100)] | None = None


@REGISTRY.register("task.status", 1)
class TaskStatusChangedV1(Payload):
    """One transition of one task; folded per ``task_id`` into the status table."""

    ordering_fields: ClassVar[tuple[str, ...]] = ("task_id",)

    task_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    task_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    status: TaskStatus
    at: AwareDatetime
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    event_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    session_id: SessionId | None = None
    attempt: int = Field(0, ge=0)
    worker: Annotated[str, StringConstraints(max_length=200)] | None = None
    error: Annotated[str, StringConstraints(max_length=4_000)] | None = None
    result_ref: Annotated[str, StringConstraints(max_length=500)] | None = None


@REGISTRY.register("task.status", 2)
class TaskStatusChangedV2(TaskStatusChangedV1):
    """One transition of one task; folded per ``task_id`` into the status table.

    v2 adds ``replay_id``: the generation the transition belongs to. ``None`` is
    the first run; a replay's id (a UUIDv7) a rerun, and a later replay id is a
    later generation, so the fold can restart a finished task for a replay and
    still drop late transitions of an older run.
    """

    replay_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


@REGISTRY.register("task.status", 3)
class TaskStatusChangedV3(TaskStatusChangedV2):
    """One transition of one task; folded per ``task_id`` into the status table.

    v3 makes one record enough to know a task: each is a row of the worker's
    ``task_status`` table (the topic is its changelog), and a task that ends
    within half a second writes only its outcome. So it says when the task was
    queued (``created_at``, its event's time) and started (``started_at``), and
    in which ``partition`` its row lives (the partition of its input record,
    where its worker reads it back and its expiry is asked for).
    """

    created_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    partition: int | None = Field(None, ge=0)


@REGISTRY.register("dead.letter", 1)
class DeadLetterV1(Payload):
    """A record the pipeline gave up on, with everything needed to replay it.

    ``original_b64`` holds the record's exact bytes, since a poison record may
    not even be UTF-8; ``original_key`` keeps the ordering key for a replay.
    """

    ordering_fields: ClassVar[tuple[str, ...]] = ("original_key",)

    reason: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    error: Annotated[str, StringConstraints(max_length=4_000)]
    origin_topic: str
    origin_partition: int = Field(ge=0)
    origin_offset: int = Field(ge=0)
    original_b64: str
    original_key: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    task_type: str | None = None
    task_id: str | None = None
    attempts: int = Field(0, ge=0)
    traceback: Annotated[str, StringConstraints(max_length=16_000)] | None = None


@REGISTRY.register("dead.letter", 2)
class DeadLetter(DeadLetterV1):
    """A record the pipeline gave up on, with everything needed to replay it.

    v2 adds ``original_bytes``, the original record's size: a record too large
    to copy into a dead letter keeps only a preview of its first bytes in
    ``original_b64`` (shorter than ``original_bytes``), and cannot be requeued.
    """

    original_bytes: int | None = Field(None, ge=0)


TaskStatusChanged = TaskStatusChangedV3


@REGISTRY.register("task.expired", 1)
class TaskExpired(Payload):
    """A finished task's status has outlived its retention: delete its record.

    Published by the worker that owns the task's status partition, on the
    status topic itself, so the delete (a tombstone in the table's changelog)
    is written by the fold agent like every other change of the record.
    """

    ordering_fields: ClassVar[tuple[str, ...]] = ("task_id",)

    task_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    finished_before: AwareDatetime = Field(description="Only a record finished before this time is deleted")


@REGISTRY.register("table.expiry", 1)
class TableRowExpiry(Payload):
    """A table row may have outlived its retention: prune it where it lives.

    A timer finds such rows but may not write a table (Faust takes a row's
    changelog partition, and RocksDB its database, from the event in hand).
    So the worker that owns the row sends this into the row's partition of the
    table-expiry topic, and the agent there prunes the row as of ``as_of``.
    """

    ordering_fields: ClassVar[tuple[str, ...]] = ("key",)

    table: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    key: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    as_of: AwareDatetime = Field(description="Prune what had expired by this time, and nothing newer")


@REGISTRY.register("task.retry", 1)
class TaskRetry(Payload):
    """A failed task waiting in a retry tier; it carries the original record.

    Keyed like the original record, so the retry lands in the same partition
    number and the tables the task writes stay co-partitioned.
    """

    ordering_fields: ClassVar[tuple[str, ...]] = ("original_key",)

    task_type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    attempt: int = Field(ge=1, description="The attempt to run next (0 was the first)")
    due_at: AwareDatetime = Field(description="When the retry is due; must carry a time zone")
    error: Annotated[str, StringConstraints(max_length=4_000)]
    origin_topic: str
    origin_partition: int = Field(ge=0)
    origin_offset: int = Field(ge=0)
    original_b64: str
    original_key: str | None = None


LearnerId = UserId
Report = dict[str, Any]


@REGISTRY.register("analysis.completed", 1)
class AnalysisCompleted(Payload):
    """One turn's quality report, keyed by learner so per-learner folds are co-partitioned.

    Carries the explanation so the vector chain can embed it on the learner's
    partition without reading the conversations topic again.
    """

    ordering_fields: ClassVar[tuple[str, ...]] = ("learner_id",)

    learner_id: LearnerId = Field(description="user_id, or the session id for anonymous learners")
    session_id: SessionId
    topic: TopicName
    turn_event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    explanation: Text
    report: Report
    user_id: UserId | None = None


@REGISTRY.register("memory.consolidated", 1)
class MemoryConsolidated(Payload):
    """A session digest for a learner's long-term memory of a topic, keyed by learner.

    ``explanations`` (bounded) lets the memory fold close earlier open questions
    that this session answered.
    """

    ordering_fields: ClassVar[tuple[str, ...]] = ("learner_id",)

    learner_id: LearnerId
    topic: TopicName
    trigger: Literal["chat.turn", "conversation.ended", "memory.requested"]
    source_event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    digest: Report
    explanations: list[Annotated[str, StringConstraints(max_length=20_000)]] = Field(
        default_factory=list, max_length=50
    )
    session_id: SessionId | None = None
    user_id: UserId | None = None


@REGISTRY.register("cost.report", 1)
class CostReport(Payload):
    """LLM spend of one UTC day, per learner and per model (decimal strings)."""

    ordering_fields: ClassVar[tuple[str, ...]] = ("day",)

    day: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    currency: str
    generated_at: AwareDatetime
    complete: bool = Field(description="The day is over (else: the running day so far)")
    totals: Report
    by_user: dict[str, Report]
    by_model: dict[str, Report]


@REGISTRY.register("monitoring.snapshot", 1)
class MonitoringSnapshot(Payload):
    """One worker's view of pipeline health: lag per topic, pending events per task type, counts."""

    ordering_fields: ClassVar[tuple[str, ...]] = ("worker",)

    worker: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    at: AwareDatetime
    lag_by_topic: dict[str, int]
    queue_size_by_task_type: dict[str, int]
    counters: dict[str, int]
    assigned_partitions: int = Field(ge=0)
