"""The seed service's routes: ``POST /chat`` and ``POST /memorize`` (docs/architecture.md, contract 1).

The reply goes out only after Kafka acknowledged the turn's event and the
queued status of its tasks; an ``Idempotency-Key`` makes a retried request
publish once (see :mod:`producers.idempotency`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from domain.tutor import Turn, remember
from producers.api_models import (
    PUBLISH_ERRORS,
    ChatRequest,
    ChatResponse,
    MemorizeAccepted,
    MemorizeRequest,
    MemoryItem,
)
from producers.dependencies import (
    AcceptedTasksDep,
    IdempotencyDep,
    MetricsDep,
    PublisherDep,
    QuestionServiceDep,
    SettingsDep,
)
from producers.idempotency import IDEMPOTENCY_KEY, idempotent
from producers.publishing import publish_with_tasks
from schemas.envelope import new_envelope
from schemas.events import ChatTurn, MemoryRequested

router = APIRouter(tags=["chat"])


def _memory_turns(items: list[MemoryItem | str]) -> list[Turn]:
    return [
        Turn(role="user", content=item)
        if isinstance(item, str)
        else Turn(role=item.role, content=item.content)
        for item in items
    ]


@router.post("/chat", response_model=ChatResponse, responses=PUBLISH_ERRORS)
async def chat(
    body: ChatRequest,
    request: Request,
    questions: QuestionServiceDep,
    publisher: PublisherDep,
    accepted_tasks: AcceptedTasksDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    cache: IdempotencyDep,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> ChatResponse:
    """Ask the tutor's probing questions about the learner's explanation and queue the turn's tasks."""

    async def handle(event_id: str) -> ChatResponse:
        memory = _memory_turns(body.short_term_memory)
        asked = await questions.ask(
            topic=body.topic,
            explanation=body.user_input,
            memory=memory,
            session_id=body.session_id,
            user_id=body.user_id,
        )
        turn = ChatTurn(
            session_id=body.session_id,
            topic=body.topic,
            user_input=body.user_input,
            user_id=body.user_id,
            questions=asked.questions,
            language=asked.language,
        )
        accepted = await publish_with_tasks(
            publisher,
            new_envelope(turn, event_id=event_id, source="api"),
            accepted_tasks,
            metrics,
        )
        metrics.questions.labels(asked.source).inc()
        kept = remember(memory, body.user_input, asked.questions, keep_turns=settings.memory_turns)
        return ChatResponse(
            questions=asked.questions,
            session_id=body.session_id,
            short_term_memory=[MemoryItem(role=t.role, content=t.content) for t in kept],
            background_task_id=accepted.task_ids[0],
            task_ids=accepted.task_ids,
            event_id=accepted.event_id,
            language=asked.language,
            question_source=asked.source,
        )

    return await idempotent(cache, request, "/chat", idempotency_key, handle)


@router.post(
    "/memorize",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MemorizeAccepted,
    responses=PUBLISH_ERRORS,
)
async def memorize(
    body: MemorizeRequest,
    request: Request,
    publisher: PublisherDep,
    accepted_tasks: AcceptedTasksDep,
    metrics: MetricsDep,
    cache: IdempotencyDep,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
) -> MemorizeAccepted:
    """Queue a conversation for consolidation into long-term memory."""

    async def handle(event_id: str) -> MemorizeAccepted:
        requested = MemoryRequested(
            topic=body.topic,
            conversation_history=body.conversation_history,
            session_id=body.session_id,
            user_id=body.user_id,
        )
        accepted = await publish_with_tasks(
            publisher,
            new_envelope(requested, event_id=event_id, source="api"),
            accepted_tasks,
            metrics,
        )
        return MemorizeAccepted(
            message="memory consolidation queued",
            task_id=accepted.task_ids[0],
            task_ids=accepted.task_ids,
            event_id=accepted.event_id,
        )

    return await idempotent(cache, request, "/memorize", idempotency_key, handle)
