"""The shared language of the pipeline: envelopes, event types, topics, task ids.

Imported by both sides (``producers`` and ``streams``) and by any tool; it
imports neither Faust nor FastAPI nor aiokafka.
"""

from schemas.envelope import Envelope, decode, encode, new_envelope, ordering_key
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
    TaskStatusChanged,
)
from schemas.registry import REGISTRY, EventRegistry
from schemas.tasks import TaskStatus, task_id, tasks_for
from schemas.topics import Topics

__all__ = [
    "REGISTRY",
    "AnalysisCompleted",
    "ChatTurn",
    "ConversationEnded",
    "CostReport",
    "DeadLetter",
    "Envelope",
    "EventRegistry",
    "LlmUsage",
    "MemoryConsolidated",
    "MemoryRequested",
    "MonitoringSnapshot",
    "TaskStatus",
    "TaskStatusChanged",
    "Topics",
    "decode",
    "encode",
    "new_envelope",
    "ordering_key",
    "task_id",
    "tasks_for",
]
