"""The ``transcript`` task type: each session's turns, end, and memorized conversations."""

from __future__ import annotations

from typing import Any

import faust

from schemas.envelope import Envelope, ordering_key, rfc3339
from schemas.events import ChatTurn, ConversationEnded, MemoryRequested
from streams.domain.transcript import end_conversation, record_history, record_turn
from streams.runtime import Runtime
from streams.tasks import TaskContext, TaskType


def install(rt: Runtime) -> faust.Table:
    """Register the handler and the table it writes (co-partitioned with conversations)."""
    table = rt.table(
        "session_transcripts",
        rt.topics.transcripts_changelog,
        help="Per session: number of turns, the last turns, whether it ended.",
    )
    rt.expiry.register_session_table(table)

    async def transcript(envelope: Envelope[Any], context: TaskContext) -> str:
        data = envelope.data
        at = rfc3339(envelope.ts)
        # The table key is the record key, so the row lives in the partition this worker owns.
        key = ordering_key(envelope)
        if isinstance(data, ChatTurn):
            new = record_turn(
                table.get(key),
                event_id=envelope.id,
                at=at,
                topic=data.topic,
                user_input=data.user_input,
                questions=list(data.questions),
            )
        elif isinstance(data, ConversationEnded):
            new = end_conversation(table.get(key), at=at, topic=data.topic)
        elif isinstance(data, MemoryRequested):
            history = [u.model_dump() for u in data.conversation_history]
            new = record_history(
                table.get(key), event_id=envelope.id, at=at, topic=data.topic, history=history
            )
        else:
            raise TypeError(f"transcript cannot handle {envelope.type}")
        table[key] = new
        return f"session_transcripts/{key}#{new['turns']}"

    rt.add_task_types([TaskType("transcript", transcript, timeout_s=10.0)])

    return table
