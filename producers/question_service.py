"""Where /chat's questions come from: the local tutor, or the LLM with the tutor as fallback.

The local tutor always runs (it is fast and decides the learner's language);
when an LLM backend is configured its questions are preferred, bounded by a
deadline so a slow provider cannot stall the reply, and every answered call
is metered as an ``llm.usage`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from domain.llm import ChatCompletionsClient, LlmQuestioner, UsageRecord, ask_with_fallback, usage_envelope
from domain.tutor import Turn, warm_up
from domain.tutor import ask as tutor_ask
from foundation.settings import Settings
from producers.publisher import Publisher

# The learner waits for this: past it, the local tutor's questions go out.
LLM_DEADLINE_S = 8.0


@dataclass(frozen=True, slots=True)
class Asked:
    questions: list[str]
    language: str
    source: Literal["local", "llm"]


class QuestionService:
    def __init__(
        self,
        publisher: Publisher,
        client: ChatCompletionsClient | None = None,
        *,
        deadline_s: float = LLM_DEADLINE_S,
    ) -> None:
        self._publisher = publisher
        self._client = client
        self._questioner = LlmQuestioner(client) if client is not None else None
        self._deadline_s = deadline_s

    @classmethod
    def from_settings(cls, settings: Settings, publisher: Publisher) -> QuestionService:
        warm_up()  # load the word lists and the segmenter now, not on the first learner's turn
        return cls(publisher, ChatCompletionsClient.from_settings(settings))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def ask(
        self,
        *,
        topic: str,
        explanation: str,
        memory: Sequence[Turn],
        session_id: str,
        user_id: str | None,
    ) -> Asked:
        local = tutor_ask(topic, explanation, memory)
        if self._questioner is None:
            return Asked(local.questions, local.language, "local")
        result = await ask_with_fallback(
            self._questioner,
            lambda: local.questions,
            topic=topic,
            explanation=explanation,
            memory=[(t.role, t.content) for t in memory],
            language=local.language,
            session_id=session_id,
            user_id=user_id,
            on_usage=self._meter,
            deadline_s=self._deadline_s,
        )
        return Asked(result.questions, local.language, result.source)

    async def _meter(self, usage: UsageRecord) -> None:
        await self._publisher.publish(usage_envelope(usage, source="api"))
