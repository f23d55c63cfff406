"""Errors of the optional LLM backend, one branch under the project root::

    FeynmanError
    └── LlmError     the chat-completions backend gave no usable completion

Callers (the questioner, an agent) catch :class:`LlmError` and fall back to the
local tutor, so every failure of the HTTP backend, network errors included, is
translated into this one type at the edge (``producers.llm.client``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feynman.errors import FeynmanError

if TYPE_CHECKING:
    from producers.llm.client import Usage


class LlmError(FeynmanError):
    """The backend gave no usable completion; the message is one line a person can act on.

    ``status`` is the last HTTP status seen (``None`` when no response arrived),
    ``attempts`` how many requests were sent. ``usage`` is set only when the
    provider did answer ``2xx`` in the API's shape but the answer was unusable
    (no choices, no text): such a call may still be billed, so it is metered.
    """

    def __init__(
        self, message: str, *, status: int | None = None, attempts: int = 0, usage: Usage | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.attempts = attempts
        self.usage = usage
