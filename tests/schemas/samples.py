"""Realistic payloads of every registered event type, shared by the schema tests."""

# The Chinese text keeps its real full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import base64
from datetime import UTC, datetime

from pydantic import BaseModel

from schemas.events import (
    AnalysisCompleted,
    ChatTurn,
    ConversationEnded,
    CostReport,
    DeadLetter,
    LlmUsage,
    MemoryConsolidated,
    MemoryRequested,
    MonitoringSnapshot,
    TableRowExpiry,
    TaskExpired,
    TaskRetry,
    TaskStatusChanged,
    Utterance,
)
from schemas.tasks import TaskStatus, task_id

EVENT_ID = "0190b5c2-7f3a-7c1e-9a2b-3c4d5e6f7a8b"

CHAT_TURN_EN = ChatTurn(
    session_id="sess-2024-05-01.alice",
    topic="Photosynthesis",
    user_input=(
        "Plants take in sunlight, water and carbon dioxide, and turn them into sugar "
        "they can use as food. Oxygen comes out as a leftover."
    ),
    user_id="user:alice@example.org",
    questions=[
        "Where in the leaf does this happen?",
        "What would happen to the plant if you kept it in the dark for a week?",
    ],
    language="en",
)

CHAT_TURN_ZH = ChatTurn(
    session_id="sess-zh-0042",
    topic="光合作用",
    user_input="植物利用阳光，把水和二氧化碳变成葡萄糖，同时释放出氧气。叶绿素负责吸收光能。",
    questions=["叶绿体在这个过程中起什么作用？", "如果没有光，植物会怎样？"],
    language="zh-CN",
)

MEMORY_REQUESTED = MemoryRequested(
    topic="Photosynthesis",
    conversation_history=[
        Utterance(role="user", content="Plants make food from light."),
        Utterance(role="assistant", content="What exactly do they take in to do that?"),
        Utterance(role="user", content="Water and CO2, and chlorophyll captures the light."),
    ],
    session_id="sess-2024-05-01.alice",
    user_id="user:alice@example.org",
)

CONVERSATION_ENDED = ConversationEnded(
    session_id="sess-2024-05-01.alice",
    topic="Photosynthesis",
    user_id="user:alice@example.org",
    reason="learner closed the tab",
)

LLM_USAGE = LlmUsage(
    model="gpt-4o-mini",
    prompt_tokens=812,
    completion_tokens=143,
    latency_ms=1234.5,
    session_id="sess-2024-05-01.alice",
    user_id="user:alice@example.org",
    purpose="tutor.questions",
)

TASK_STATUS = TaskStatusChanged(
    task_id=task_id("transcript", EVENT_ID),
    task_type="transcript",
    status=TaskStatus.RUNNING,
    at=datetime(2024, 5, 1, 12, 0, 3, 250_000, tzinfo=UTC),
    event_id=EVENT_ID,
    event_type="chat.turn",
    session_id="sess-2024-05-01.alice",
    attempt=0,
    worker="worker-1@host-a",
)

DEAD_LETTER = DeadLetter(
    reason="not_json",
    error="not valid UTF-8 JSON: unexpected character: line 1 column 1 (char 0)",
    origin_topic="feynman.conversations",
    origin_partition=3,
    origin_offset=1042,
    original_b64=base64.b64encode(b"\xff\xfe not json at all").decode(),
    original_key="sess-2024-05-01.alice",
    task_type="intake",
    task_id=task_id("intake", "feynman.conversations/3/1042"),
    attempts=0,
)

TASK_RETRY = TaskRetry(
    task_type="transcript",
    attempt=1,
    due_at=datetime(2024, 5, 1, 12, 0, 11, tzinfo=UTC),
    error="RuntimeError('vector store timed out')",
    origin_topic="feynman.conversations",
    origin_partition=3,
    origin_offset=1043,
    original_b64=base64.b64encode(b'{"id":"x"}').decode(),
    original_key="sess-2024-05-01.alice",
)

# One realistic payload per registered event type (chat.turn twice: English, Chinese).
SAMPLES: dict[str, BaseModel] = {
    "chat.turn/en": CHAT_TURN_EN,
    "chat.turn/zh": CHAT_TURN_ZH,
    "memory.requested": MEMORY_REQUESTED,
    "conversation.ended": CONVERSATION_ENDED,
    "llm.usage": LLM_USAGE,
    "task.status": TASK_STATUS,
    "dead.letter": DEAD_LETTER,
    "task.retry": TASK_RETRY,
    "task.expired": TaskExpired(
        task_id=task_id("analysis", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
        finished_before=datetime(2024, 5, 8, 12, 0, tzinfo=UTC),
    ),
    "table.expiry": TableRowExpiry(
        table="completed_tasks",
        key=task_id("analysis", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
        as_of=datetime(2024, 5, 8, 12, 0, tzinfo=UTC),
    ),
    "analysis.completed": AnalysisCompleted(
        learner_id="u-1",
        session_id="s-1",
        topic="gravity",
        turn_event_id="0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        explanation="Things fall because the Earth pulls them.",
        report={"clarity": 71.5, "hedges": []},
        user_id="u-1",
    ),
    "memory.consolidated": MemoryConsolidated(
        learner_id="u-1",
        topic="gravity",
        trigger="conversation.ended",
        source_event_id="0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        digest={"summary": ["Things fall because the Earth pulls them."], "score": 0.7},
        explanations=["Things fall because the Earth pulls them."],
        session_id="s-1",
    ),
    "cost.report": CostReport(
        day="2025-03-30",
        currency="USD",
        generated_at=datetime(2025, 3, 31, 0, 0, tzinfo=UTC),
        complete=True,
        totals={"calls": 1, "cost": "0.00045"},
        by_user={"u-1": {"calls": 1, "cost": "0.00045"}},
        by_model={"gpt-4o-mini": {"calls": 1, "cost": "0.00045"}},
    ),
    "monitoring.snapshot": MonitoringSnapshot(
        worker="host:123",
        at=datetime(2025, 3, 31, 0, 0, tzinfo=UTC),
        lag_by_topic={"feynman.conversations": 3},
        queue_size_by_task_type={"analysis": 3},
        counters={"completed:analysis": 10},
        assigned_partitions=12,
    ),
}
