"""The ``transcript`` task type: each session's turns, end, and memorized conversations."""

from __future__ import annotations

from collections.abc import MutableMapping
from functools import partial
from typing import Any

import faust

from domain.transcript import end_conversation, record_history, record_turn
from schemas.envelope import Envelope, ordering_key, rfc3339
from schemas.events import ChatTurn, ConversationEnded, MemoryRequested
from streams.runtime import Runtime
from streams.tasks import TaskContext, TaskType, misrouted


async def handle_transcript(
    envelope: Envelope[Any], context: TaskContext, *, transcripts: MutableMapping[str, Any]
) -> str:
    """Every branch is idempotent (by event id, or by nature), so a redelivered event changes no row."""
    data = envelope.data
    at = rfc3339(envelope.ts)
    # The table key is the record key, so the row lives in the partition this worker owns.
    key = ordering_key(envelope)
    if isinstance(data, ChatTurn):
        new = record_turn(
            transcripts.get(key),
            event_id=envelope.id,
            at=at,
            topic=data.topic,
            user_input=data.user_input,
            questions=list(data.questions),
        )
    elif isinstance(data, ConversationEnded):
        new = end_conversation(transcripts.get(key), at=at, topic=data.topic)
    elif isinstance(data, MemoryRequested):
        history = [u.model_dump() for u in data.conversation_history]
        new = record_history(
            transcripts.get(key), event_id=envelope.id, at=at, topic=data.topic, history=history
        )
    else:
        raise misrouted("transcript", envelope)
    transcripts[key] = new
    return f"session_transcripts/{key}#{new['turns']}"


def install(rt: Runtime) -> faust.Table:
    """Register the handler and the table it writes (co-partitioned with conversations)."""
    table = rt.table(
        "session_transcripts",
        rt.topics.transcripts_changelog,
        help="Per session: number of turns, the last turns, whether it ended.",
    )
    rt.expiry.register_session_table(table)
    rt.add_task_types([TaskType("transcript", partial(handle_transcript, transcripts=table), timeout_s=10.0)])
    return table
