"""The ``transcript`` task type: keeps each session's turn count and recent turns."""

from __future__ import annotations

from typing import Any

import faust

from schemas.envelope import Envelope, rfc3339
from schemas.events import ChatTurn, ConversationEnded
from streams.domain.transcript import end_conversation, record_turn
from streams.runtime import Runtime


def install(rt: Runtime) -> faust.Table:
    """Register the handler and the table it writes (co-partitioned with conversations)."""
    table = rt.table(
        "session_transcripts",
        rt.topics.transcripts_changelog,
        help="Per session: number of turns, the last turns, whether it ended.",
    )

    @rt.task_type("transcript")
    async def transcript(envelope: Envelope[Any]) -> str:
        data = envelope.data
        at = rfc3339(envelope.ts)
        if isinstance(data, ChatTurn):
            new = record_turn(
                table.get(data.session_id),
                event_id=envelope.id,
                at=at,
                topic=data.topic,
                user_input=data.user_input,
                questions=list(data.questions),
            )
        elif isinstance(data, ConversationEnded):
            new = end_conversation(table.get(data.session_id), at=at, topic=data.topic)
        else:
            raise TypeError(f"transcript cannot handle {envelope.type}")
        table[data.session_id] = new
        return f"session_transcripts/{data.session_id}#{new['turns']}"

    return table
