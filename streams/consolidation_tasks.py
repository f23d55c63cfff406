"""The ``consolidation`` and ``memory`` task types, their tables and the memory route.

``consolidation`` runs on the conversations topic (keyed by session). It keeps
the session's turns in ``consolidation_sessions`` (its own table, so it never
races the transcript task for the same turn) and, every K turns, when the
conversation ends or when /memorize asks, digests them and publishes
``memory.consolidated`` keyed by *learner*. Memory is per (learner, topic), and
one learner's sessions sit on different partitions (and workers): folding it
here would let two workers write one row. ``memory`` folds it instead from the
memories topic, where all of a learner's digests share one partition, into
``learner_memory`` (keyed by learner, co-partitioned with that topic).

With an LLM backend configured, the digest's summary is the model's
(:mod:`domain.llm_summary`); the rest of the digest stays the local
engine's. A transient LLM failure raises, so the runtime retries the task;
on the task's last attempt, and for failures a retry cannot fix, the local
summary is used instead, so an LLM outage never costs a learner their memory.
The result event's id derives from the task, so however many attempts it
takes, one ``memory.consolidated`` counts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

import faust
from faust.web import Request, Response, View

from domain.consolidation import (
    SessionDigest,
    SessionTurn,
    consolidate_session,
    digest_from_dict,
    digest_to_dict,
    merge_memory,
    turns_from_history,
)
from domain.llm.client import Completion
from domain.llm.errors import LlmError
from domain.llm_summary import parse_summary, summary_messages, with_llm_summary
from domain.progress import topic_key
from domain.transcript import idle_unconsolidated, mark_consolidated, record_turn
from schemas.envelope import Envelope, encode, new_envelope, ordering_key, rfc3339
from schemas.events import ChatTurn, ConversationEnded, MemoryConsolidated, MemoryRequested
from streams.analysis_tasks import learner_of
from streams.results import PublishResult, publish_result, result_event_id
from streams.runtime import Runtime
from streams.tasks import Priority, TaskContext, TaskType, misrouted
from streams.timers import guarded_timer
from streams.worker_llm import WorkerLlm

log = logging.getLogger(__name__)

# Bound on the explanations a memory.consolidated event carries (bytes, roughly).
MAX_EXPLANATION_CHARS = 200_000
# Fixed forever: the ids of idle sessions' end events derive from it.
IDLE_NAMESPACE = uuid.UUID("3b0f1d2e-8c4a-5e6f-9a1b-2c3d4e5f6a7b")
# The ``purpose`` of the usage events of summary calls (cost reports group by it).
PURPOSE = "consolidation"
# Locally a failure is a bug a retry will not fix; with an LLM a provider outage of a
# minute or two must not dead-letter memories, so attempts follow the retry tiers (1 s, 10 s, 60 s).
LOCAL_ATTEMPTS, LLM_ATTEMPTS = 2, 4


class Complete(Protocol):
    """A metered, rate-limited completion (:meth:`streams.worker_llm.WorkerLlm.complete` in the worker)."""

    def __call__(
        self,
        messages: list[dict[str, str]],
        *,
        purpose: str,
        max_tokens: int,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> Awaitable[Completion]: ...


# Gives a digest its final summary; may raise to have the runtime retry the task.
Summarise = Callable[[SessionDigest, list[SessionTurn], TaskContext], Awaitable[SessionDigest]]


async def summarised(
    digest: SessionDigest,
    turns: list[SessionTurn],
    context: TaskContext,
    *,
    complete: Complete | None,
    max_tokens: int,
    attempts: int,
) -> SessionDigest:
    """The digest with the LLM's summary, or as it is when the LLM cannot give one now.

    ``attempts`` is the task type's, so the last attempt falls back to the local
    summary instead of raising: an LLM outage must not dead-letter a memory.
    """
    if complete is None:
        return digest
    messages = summary_messages(turns, topic=digest.topic, language=digest.language)
    try:
        completion = await complete(
            messages,
            purpose=PURPOSE,
            max_tokens=max_tokens,
            session_id=digest.session_id,
            user_id=digest.user_id,
        )
    except LlmError as exc:
        if exc.transient and context.attempt + 1 < attempts:
            raise
        log.warning("consolidation %s: local summary, the LLM failed: %s", context.task_id, exc.message)
        return digest
    summary = parse_summary(completion.text)
    if not summary:
        log.warning("consolidation %s: local summary, the LLM answer held none", context.task_id)
        return digest
    return with_llm_summary(digest, summary)


async def handle_consolidation(
    envelope: Envelope[Any],
    context: TaskContext,
    *,
    sessions: MutableMapping[str, Any],
    every: int,
    keep: int,
    summarise: Summarise,
    publish: PublishResult,
) -> str | None:
    """Digest a session every ``every`` turns, at its end, or when /memorize asks.

    The result's event id derives from the task, so a re-run republishes the
    same event and the memory fold downstream counts the session once.
    """
    data = envelope.data
    key = ordering_key(envelope)
    if isinstance(data, MemoryRequested):
        turns = turns_from_history([u.model_dump() for u in data.conversation_history])
        session_id = data.session_id or envelope.id
        return await _publish_digest(
            envelope,
            context,
            turns,
            topic=data.topic,
            session_id=session_id,
            user_id=data.user_id,
            summarise=summarise,
            publish=publish,
        )
    state = sessions.get(key)
    if isinstance(data, ChatTurn):
        state = record_turn(
            state,
            event_id=envelope.id,
            at=rfc3339(envelope.ts),
            topic=data.topic,
            user_input=data.user_input,
            questions=list(data.questions),
            keep=keep,
        )
        state = {**state, "user_id": data.user_id or state.get("user_id")}
        sessions[key] = state
        if state["turns"] % every:
            return None
    elif not isinstance(data, ConversationEnded):
        raise misrouted("consolidation", envelope)
    if state is None:
        return None
    turns = [SessionTurn(t["user_input"], tuple(t["questions"])) for t in state["recent"]]
    user_id = getattr(data, "user_id", None) or state.get("user_id")
    ref = await _publish_digest(
        envelope,
        context,
        turns,
        topic=state["topic"],
        session_id=key,
        user_id=user_id,
        summarise=summarise,
        publish=publish,
    )
    sessions[key] = mark_consolidated(state)
    return ref


async def _publish_digest(
    envelope: Envelope[Any],
    context: TaskContext,
    turns: list[SessionTurn],
    *,
    topic: str,
    session_id: str,
    user_id: str | None,
    summarise: Summarise,
    publish: PublishResult,
) -> str | None:
    if not turns:
        return None
    digest = consolidate_session(turns, topic=topic, session_id=session_id, user_id=user_id)
    digest = await summarise(digest, turns, context)
    explanations = _bounded([t.explanation for t in turns][-50:])
    result = MemoryConsolidated(
        learner_id=learner_of(user_id, session_id),
        user_id=user_id,
        session_id=session_id,
        topic=topic,
        trigger=envelope.type,
        source_event_id=envelope.id,
        digest=digest_to_dict(digest),
        explanations=explanations,
    )
    return await publish(result, event_id=result_event_id(context))


async def handle_memory(
    envelope: Envelope[Any], context: TaskContext, *, memory: MutableMapping[str, Any]
) -> str:
    """Merge a session digest into the learner's memory of its topic (a re-merge replaces it)."""
    data = envelope.data
    if not isinstance(data, MemoryConsolidated):
        raise misrouted("memory", envelope)
    key = ordering_key(envelope)
    row = memory.get(key) or {"topics": {}}
    slot = topic_key(data.topic)
    merged = merge_memory(row["topics"].get(slot), digest_from_dict(data.digest, data.explanations))
    memory[key] = {"topics": {**row["topics"], slot: merged}}
    return f"learner_memory/{key}/{slot}"


def install(rt: Runtime, llm: WorkerLlm | None = None) -> faust.Table:
    sessions = rt.table(
        "consolidation_sessions",
        rt.topics.consolidation_changelog,
        help="Per session: the turns consolidation digests (latest consolidation_max_turns).",
    )
    memory = rt.table(
        "learner_memory",
        rt.topics.learner_memory_changelog,
        help="Per learner: long-term memory per topic, folded from memory.consolidated.",
    )
    rt.expiry.register_session_table(sessions)
    attempts = LOCAL_ATTEMPTS if llm is None else LLM_ATTEMPTS
    consolidation = partial(
        handle_consolidation,
        sessions=sessions,
        every=rt.settings.consolidate_every_turns,
        keep=rt.settings.consolidation_max_turns,
        summarise=partial(
            summarised,
            complete=None if llm is None else llm.complete,
            max_tokens=rt.settings.llm_summary_max_tokens,
            attempts=attempts,
        ),
        publish=partial(publish_result, rt, rt.topics.memories),
    )

    idle_s = rt.settings.consolidate_idle_s

    @guarded_timer(rt.app, max(1.0, min(60.0, idle_s / 4)), name="consolidate_idle_sessions")
    async def consolidate_idle_sessions() -> None:
        # A timer cannot write tables: it publishes the session's end (reason
        # "idle") keyed by session, and handle_consolidation consolidates it. The
        # event id is fixed per session and turn count, so several ticks (or
        # workers holding standby copies) ask once.
        idle_before = rfc3339(datetime.now(UTC) - timedelta(seconds=idle_s))
        conversations = rt.topic(rt.topics.conversations)
        for session_id, state in list(sessions.items()):
            if state is None or not idle_unconsolidated(state, idle_before=idle_before):
                continue
            ended = ConversationEnded(
                session_id=session_id, topic=state["topic"], user_id=state.get("user_id"), reason="idle"
            )
            event_id = str(uuid.uuid5(IDLE_NAMESPACE, f"{session_id}/{state['turns']}"))
            envelope = new_envelope(ended, event_id=event_id, source=rt.worker)
            await conversations.send(key=session_id, value=encode(envelope))

    rt.add_task_types(
        [
            TaskType("consolidation", consolidation, max_attempts=attempts, timeout_s=60.0),
            TaskType(
                "memory", partial(handle_memory, memory=memory), priority=Priority.MEDIUM, timeout_s=30.0
            ),
        ]
    )

    @rt.page("/learners/{learner_id}/memory/", table=memory, match_info="learner_id")
    async def learner_memory(web: View, request: Request, learner_id: str) -> Response:
        row = memory.get(learner_id)
        topics = {k: _public(v) for k, v in (row or {"topics": {}})["topics"].items()}
        wanted = request.query.get("topic")
        if wanted:
            topics = {k: v for k, v in topics.items() if k == topic_key(wanted)}
        if not topics:
            return web.json({"detail": f"no memory for learner {learner_id}"}, status=404)
        return web.json({"learner_id": learner_id, "topics": topics})

    return memory


def _public(memory: dict[str, Any]) -> dict[str, Any]:
    """A memory without ``before_last`` (kept only to make re-merging a session idempotent)."""
    return {k: v for k, v in memory.items() if k != "before_last"}


def _bounded(explanations: list[str]) -> list[str]:
    """The latest explanations that fit in :data:`MAX_EXPLANATION_CHARS`."""
    out: list[str] = []
    size = 0
    for text in reversed(explanations):
        size += len(text)
        if size > MAX_EXPLANATION_CHARS:
            break
        out.append(text)
    return out[::-1]
