"""The API served with no broker: the services its routes need, as ``app.dependency_overrides``.

Shared by the tests that check what the API refuses or allows without Kafka:
a publisher whose Kafka acknowledges at once (topic choice, keying and
encoding stay real), canned tutor questions, the real in-process caches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import orjson

from domain.tutor import Turn
from foundation.settings import Settings
from producers.dependencies import (
    get_accepted_tasks,
    get_app_settings,
    get_idempotency_cache,
    get_metrics,
    get_publisher,
    get_question_service,
)
from producers.idempotency import IdempotencyCache
from producers.metrics import ApiMetrics
from producers.publisher import Published, Publisher
from producers.question_service import Asked, QuestionService
from producers.status_client import AcceptedTasks

T = TypeVar("T")

TURN = {"type": "chat.turn", "v": 1, "data": {"session_id": "s1", "topic": "t", "user_input": "hi"}}


class AckingPublisher(Publisher):
    """Kafka replaced by an immediate acknowledgement: topic choice, keying and encoding stay real."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.sent: list[dict[str, Any]] = []

    async def publish_raw(self, topic: str, value: bytes, *, key: str | None) -> Published:
        self.sent.append(orjson.loads(value))
        return Published(topic, 0, len(self.sent) - 1)


class CannedQuestions(QuestionService):
    """The tutor is not under test here; a fixed reply keeps /chat's success path deterministic."""

    async def ask(
        self, *, topic: str, explanation: str, memory: Sequence[Turn], session_id: str, user_id: str | None
    ) -> Asked:
        return Asked([f"What do you mean by {topic!r}?"], "en", "local")


def returning(value: T) -> Callable[[], Awaitable[T]]:
    """A dependency override that provides ``value``."""

    async def provide() -> T:
        return value

    return provide


def publishing_overrides(settings: Settings, publisher: AckingPublisher) -> dict[Any, Any]:
    """What the publishing routes (/events, /chat, /memorize) depend on."""
    return {
        get_app_settings: returning(settings),
        get_publisher: returning(publisher),
        get_accepted_tasks: returning(AcceptedTasks()),
        get_metrics: returning(ApiMetrics()),
        get_idempotency_cache: returning(IdempotencyCache()),
        get_question_service: returning(CannedQuestions(publisher)),
    }
