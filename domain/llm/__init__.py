"""Optional OpenAI-compatible chat-completions backend (see docs/llm.md).

The local tutor answers when ``FEYNMAN_LLM_BASE_URL`` is unset or the backend
fails; this package only adds better questions when it can, and meters them.
"""

from domain.llm.client import ChatCompleter, ChatCompletionsClient, Completion, Usage, retry_after_seconds
from domain.llm.errors import LlmError
from domain.llm.questioner import (
    LlmQuestioner,
    LlmQuestions,
    QuestionsResult,
    ask_with_fallback,
    parse_questions,
)
from domain.llm.usage import UsageRecord, usage_envelope

__all__ = [
    "ChatCompleter",
    "ChatCompletionsClient",
    "Completion",
    "LlmError",
    "LlmQuestioner",
    "LlmQuestions",
    "QuestionsResult",
    "Usage",
    "UsageRecord",
    "ask_with_fallback",
    "parse_questions",
    "retry_after_seconds",
    "usage_envelope",
]
