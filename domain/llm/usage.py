"""Metering of LLM calls: one ``llm.usage`` event per call the provider answered.

Shared by every caller of the backend (the API's questions, the worker's
consolidation), so a call is metered the same way wherever it is made and the
``costs`` task type prices them all alike. No transport here: the caller
publishes the envelope through its own producer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.llm.client import Usage
from schemas.envelope import Envelope, new_envelope
from schemas.events import LlmUsage

# The purpose of the chat route's calls (the default, as it was the first caller).
QUESTIONS = "questions"


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One metered LLM call, shaped like the ``llm.usage`` event (see :meth:`as_event_data`)."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    session_id: str | None = None
    user_id: str | None = None
    purpose: str = QUESTIONS
    # True when the provider sent no usage and the tokens are 0, not counts.
    usage_missing: bool = False

    @classmethod
    def from_usage(
        cls, usage: Usage, *, session_id: str | None, user_id: str | None, purpose: str = QUESTIONS
    ) -> UsageRecord:
        return cls(
            model=usage.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            latency_ms=usage.latency_ms,
            session_id=session_id,
            user_id=user_id,
            purpose=purpose,
            usage_missing=usage.usage_missing,
        )

    def as_event_data(self) -> dict[str, Any]:
        """The ``llm.usage`` v1 payload (``schemas.events.LlmUsage``), which has no ``usage_missing``."""
        return {
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_ms": self.latency_ms,
            "session_id": self.session_id,
            "user_id": self.user_id,
            "purpose": self.purpose,
        }


def usage_envelope(record: UsageRecord, *, source: str) -> Envelope[LlmUsage]:
    """The ``llm.usage`` event of one call, with a fresh id.

    Fresh, not derived from a task: each call the provider answered is billed,
    so a task that runs twice and calls twice is metered twice; a copy of one
    event (producer retry, replay) keeps its id and is still counted once.
    """
    return new_envelope(LlmUsage(**record.as_event_data()), source=source)
