"""The worker's LLM backend: one client and one rate limiter per process, every call metered.

Task types that call the LLM share one :class:`WorkerLlm`, so they share the
budgets of docs/rate-limits.md: each call waits for its model's requests and
tokens before it is made, corrects the estimate with the provider's count
after, and a ``Retry-After`` on any call pauses the model for every task at
once (the client reports it at the first 429, before its own retry). Each
call the provider answered publishes an ``llm.usage`` event, as the API's
calls do, so the ``costs`` task type prices the worker's calls too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import mode

from domain.llm.client import ChatCompleter, ChatCompletionsClient, Completion, Usage
from domain.llm.errors import LlmError
from domain.llm.questioner import pseudonym
from domain.llm.usage import UsageRecord, usage_envelope
from domain.rate_limit import RateLimiter, estimate_tokens
from foundation.settings import Settings
from streams.results import publish_envelope
from streams.runtime import Runtime

log = logging.getLogger(__name__)

# A 429 without Retry-After still means "slow down": pause the model this long.
PAUSE_AFTER_429_S = 20.0

Meter = Callable[[UsageRecord], Awaitable[None]]


class WorkerLlm:
    """Rate-limited, metered chat completions for the worker's task types.

    ``model`` is the *configured* model name, the one the limits are keyed by;
    the provider may answer with a dated snapshot of it, which is what the
    usage event carries (pricing needs it).
    """

    def __init__(
        self,
        client: ChatCompleter,
        limiter: RateLimiter,
        model: str,
        meter: Meter,
        *,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.model = model
        self._meter = meter
        self._close = close

    @classmethod
    def from_settings(cls, settings: Settings, meter: Meter) -> WorkerLlm | None:
        """The configured backend with the configured limits; ``None`` when no LLM is configured."""
        limiter = RateLimiter.from_config({m: b.as_config() for m, b in settings.llm_limits.items()})
        model = settings.llm_model
        client = ChatCompletionsClient.from_settings(
            settings, on_retry_after=lambda seconds: limiter.back_off(model, seconds)
        )
        if client is None:
            return None
        return cls(client, limiter, model, meter, close=client.aclose)

    async def aclose(self) -> None:
        if self._close is not None:
            await self._close()

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        purpose: str,
        max_tokens: int,
        session_id: str | None = None,
        user_id: str | None = None,
        temperature: float = 0.2,
    ) -> Completion:
        """One completion within the model's budget; :class:`LlmError` when none came.

        Usage is published before this returns or raises, for every answer
        the provider gave (a malformed ``2xx`` may be billed too); an error
        status or no answer publishes nothing.
        """
        estimated = estimate_tokens(messages, max_tokens)
        await self.limiter.acquire(self.model, tokens=estimated)
        try:
            completion = await self.client.complete(
                messages,
                user=pseudonym(user_id) if user_id else None,
                max_tokens=max_tokens,
                temperature=temperature,
            )
        except LlmError as exc:
            if exc.status == 429 and exc.retry_after is None:
                # With a Retry-After the client has already paused the model through its hook.
                self.limiter.back_off(self.model, PAUSE_AFTER_429_S)
            if exc.usage is not None:
                await self._settle_and_meter(exc.usage, estimated, purpose, session_id, user_id)
            raise
        await self._settle_and_meter(completion.usage, estimated, purpose, session_id, user_id)
        return completion

    async def _settle_and_meter(
        self, usage: Usage, estimated: int, purpose: str, session_id: str | None, user_id: str | None
    ) -> None:
        if not usage.usage_missing:
            # Keyed by the configured name, as acquire was: usage.model may be a dated snapshot.
            actual = usage.prompt_tokens + usage.completion_tokens
            self.limiter.settle(self.model, estimated=estimated, actual=actual)
        else:
            log.warning("LLM answer without usage (model %s): metered as 0 tokens", usage.model)
        await self._meter(
            UsageRecord.from_usage(usage, session_id=session_id, user_id=user_id, purpose=purpose)
        )


def install(rt: Runtime) -> WorkerLlm | None:
    """The worker's backend, metering to the llm-usage topic and closed with the app; ``None`` if unset."""

    async def meter(record: UsageRecord) -> None:
        await publish_envelope(rt, rt.topics.llm_usage, usage_envelope(record, source=rt.worker))

    llm = WorkerLlm.from_settings(rt.settings, meter)
    if llm is None:
        return None
    backend = llm

    @rt.app.service
    class CloseLlm(mode.Service):
        """Closes the client's connection pool when the worker stops."""

        async def on_stop(self) -> None:
            await backend.aclose()

    return llm
