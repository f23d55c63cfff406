"""Errors of the optional LLM backend, one branch under the project root::

    FeynmanError
    └── LlmError     the chat-completions backend gave no usable completion

Callers (the questioner, an agent) catch :class:`LlmError` and fall back to the
local tutor, so every failure of the HTTP backend, network errors included, is
translated into this one type at the edge (``domain.llm.client``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.errors import FeynmanError

if TYPE_CHECKING:
    from domain.llm.client import Usage


class LlmError(FeynmanError):
    """The backend gave no usable completion; the message is one line a person can act on.

    ``status`` is the last HTTP status seen (``None`` when no response arrived),
    ``attempts`` how many requests were sent. ``usage`` is set only when the
    provider did answer ``2xx`` in the API's shape but the answer was unusable
    (no choices, no text): such a call may still be billed, so it is metered.
    ``retry_after`` is the wait the last response asked for (``Retry-After``,
    uncapped), so a caller sharing a rate limiter can pause the whole model.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        attempts: int = 0,
        usage: Usage | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.attempts = attempts
        self.usage = usage
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Whether a later attempt may succeed: no answer, a timeout, ``408``, ``429`` or ``5xx``.

        Anything else (``400``, ``401``, ``404``, a malformed ``2xx``) is a
        configuration or provider defect that a retry would only repeat.
        """
        return self.status is None or self.status in (408, 429) or self.status >= 500
