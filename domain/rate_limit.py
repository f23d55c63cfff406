"""Per-model token buckets in front of the LLM backend: requests per minute and tokens per minute.

Providers meter every model on two budgets at once (OpenAI's ``RPM`` and
``TPM``) and answer ``429`` once either runs out. Letting the task runtime
fire at will and lean on the client's 429 retries would park every task in
retry sleeps at once and spend attempts; waiting *before* the call keeps the
workers under the budget instead. Plain asyncio, no Kafka or Faust import.

Choices, and why:

- **Capacity = one minute's budget.** A bucket holds ``requests_per_minute``
  requests and ``tokens_per_minute`` tokens and refills continuously at
  budget/60 per second. That allows a full minute's burst after an idle spell
  (a turn's consolidation and analysis start together), and over any window
  of *t* seconds at most budget * (1 + t/60) goes out — the same shape as the
  providers' own limiters, which refill continuously rather than per
  calendar minute.
- **FIFO per model.** A caller that cannot be served queues behind everyone
  already waiting, even when its own small demand would fit: otherwise a
  steady trickle of small requests keeps the bucket from ever filling up for
  a large one, which would wait forever.
- **Oversized requests never deadlock.** A request for more than a bucket's
  capacity is let through alone once the bucket is full, and leaves the bucket
  in debt (a negative level) that later requests wait out: the budget is still
  honoured on average.
- **Charges may overdraw too.** :meth:`RateLimiter.settle` corrects the
  estimate with the provider's real usage; a larger actual usage puts the
  bucket in debt rather than being forgiven.
- **A 429 pauses the model**, unlimited ones included: ``Retry-After`` is the
  provider's word, whatever our configuration believes.

The limiter is per process, so a budget shared by N workers should be split
between them in the configuration; a 429 ``back_off`` corrects what a split
gets wrong. One event loop only (no locks): every mutation happens between
awaits, so concurrent tasks on that loop see consistent state.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# The key of the configuration that applies to every model not named on its own.
DEFAULT_KEY = "*"
# Float slack: a waiter that slept exactly the computed time must find its demand met, even when
# rounding leaves the level a hair short; otherwise a fake (or coarse) clock could spin forever.
_RELATIVE_SLACK = 1e-9
_PAUSE_SLACK_S = 1e-6


@dataclass(frozen=True, slots=True)
class ModelLimits:
    """One model's budgets; ``math.inf`` leaves that dimension unlimited."""

    requests_per_minute: float
    tokens_per_minute: float

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            # `not value > 0` also rejects NaN, which would poison every comparison later.
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number (math.inf for unlimited), not {value!r}")


@dataclass(slots=True)
class _Bucket:
    """A continuously refilling bucket that may go negative (debt), never above capacity."""

    capacity: float
    level: float
    updated: float

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.capacity / 60.0)
            self.updated = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` may be taken; more than capacity only needs a full bucket."""
        deficit = min(amount, self.capacity) - self.level
        if deficit <= self.capacity * _RELATIVE_SLACK:
            return 0.0
        return deficit * 60.0 / self.capacity

    def give(self, amount: float) -> None:
        self.level = min(self.capacity, self.level + amount)


def _bucket(per_minute: float, now: float) -> _Bucket | None:
    return None if math.isinf(per_minute) else _Bucket(per_minute, per_minute, now)


@dataclass(eq=False, slots=True)
class _Waiter:
    """One queued ``acquire``; ``wake`` is replaced each time the waiter goes back to sleep."""

    tokens: int
    wake: asyncio.Future[None]
    granted: bool = False


@dataclass(slots=True)
class _Model:
    """A model's buckets (``None`` = unlimited in that dimension), pause and queue."""

    requests: _Bucket | None
    tokens: _Bucket | None
    paused_until: float = -math.inf
    queue: deque[_Waiter] = field(default_factory=deque)

    def refill(self, now: float) -> None:
        for bucket in (self.requests, self.tokens):
            if bucket is not None:
                bucket.refill(now)

    def wait_for(self, tokens: int, now: float) -> float:
        """Seconds until one request of ``tokens`` may start (0 = now)."""
        wait = self.paused_until - now
        wait = 0.0 if wait <= _PAUSE_SLACK_S else wait
        if self.requests is not None:
            wait = max(wait, self.requests.wait_for(1))
        if self.tokens is not None:
            wait = max(wait, self.tokens.wait_for(tokens))
        return wait

    def take(self, tokens: int) -> None:
        if self.requests is not None:
            self.requests.level -= 1
        if self.tokens is not None:
            self.tokens.level -= tokens

    def give_back(self, tokens: int) -> None:
        if self.requests is not None:
            self.requests.give(1)
        if self.tokens is not None:
            self.tokens.give(tokens)


class RateLimiter:
    """Token buckets per model; call :meth:`acquire` before each LLM request.

    ``limits`` names models; ``default`` applies to any other model (each gets
    its own buckets); a model in neither is unlimited. ``clock`` and ``sleep``
    are injectable so tests run on virtual time.
    """

    def __init__(
        self,
        limits: Mapping[str, ModelLimits],
        *,
        default: ModelLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = dict(limits)
        self._default = default
        self._clock = clock
        self._sleep = sleep
        self._models: dict[str, _Model] = {}
        for model in self._limits:  # eagerly, so a snapshot lists every configured model from the start
            self._model(model)

    @classmethod
    def from_config(
        cls,
        config: str | Mapping[str, Any],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> RateLimiter:
        """A limiter from ``{model: {"rpm": n, "tpm": n}}`` (a JSON text or its parsed mapping).

        ``"*"`` is the default for unnamed models; a missing ``rpm`` or ``tpm``
        leaves that budget unlimited. Errors are :class:`ValueError`, which a
        pydantic validator turns into a settings error naming the variable.
        """
        parsed = json.loads(config) if isinstance(config, str) else config
        if not isinstance(parsed, Mapping):
            raise ValueError("rate limits must be a JSON object {model: {rpm, tpm}}")
        limits: dict[str, ModelLimits] = {}
        for model, budget in parsed.items():
            if not isinstance(budget, Mapping) or not set(budget) <= {"rpm", "tpm"}:
                raise ValueError(f"limits of {model!r} must be an object with only 'rpm' and 'tpm'")
            limits[model] = ModelLimits(budget.get("rpm", math.inf), budget.get("tpm", math.inf))
        default = limits.pop(DEFAULT_KEY, None)
        return cls(limits, default=default, clock=clock, sleep=sleep)

    async def acquire(self, model: str, *, tokens: int) -> None:
        """Wait until one request and ``tokens`` tokens of ``model``'s budget are free, then take them.

        ``tokens`` is the estimate (prompt + ``max_tokens``); correct it with
        :meth:`settle` once the response's usage is known. A caller cancelled
        while waiting takes nothing; one cancelled just after being served
        gives its share back.
        """
        if tokens < 0:
            raise ValueError(f"tokens must be >= 0, not {tokens}")
        state = self._model(model)
        if state is None:
            return
        loop = asyncio.get_running_loop()
        waiter = _Waiter(tokens, loop.create_future())
        state.queue.append(waiter)
        try:
            while True:
                waiter.wake = loop.create_future()
                self._dispatch(state)
                if waiter.granted:
                    return
                if state.queue[0] is waiter:
                    # Only the head of the queue watches the clock; the others wait their turn.
                    await self._nap(state.wait_for(waiter.tokens, self._clock()), waiter.wake)
                else:
                    await waiter.wake
        except BaseException:
            if waiter.granted:
                state.give_back(waiter.tokens)
            else:
                state.queue.remove(waiter)
            self._dispatch(state)
            self._wake_head(state)
            raise

    def settle(self, model: str, *, estimated: int, actual: int) -> None:
        """Replace the estimate taken by :meth:`acquire` with the provider's reported usage.

        A refund lets waiting callers go sooner (never above capacity); a
        charge may leave the bucket in debt, which later callers wait out.
        """
        if estimated < 0 or actual < 0:
            raise ValueError(f"token counts must be >= 0, not estimated={estimated}, actual={actual}")
        state = self._models.get(model)
        if state is None or state.tokens is None or estimated == actual:
            return
        state.tokens.refill(self._clock())
        if actual > estimated:
            state.tokens.level -= actual - estimated
        else:
            state.tokens.give(estimated - actual)
            self._dispatch(state)
            self._wake_head(state)

    def back_off(self, model: str, seconds: float) -> None:
        """Start nothing for ``model`` before now + ``seconds`` (a 429's ``Retry-After``).

        The longest pause wins: a shorter ``Retry-After`` arriving later does
        not cut a pause another task was given.
        """
        if not seconds >= 0 or math.isinf(seconds):
            raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
        state = self._model(model) or self._add(model, ModelLimits(math.inf, math.inf))
        until = self._clock() + seconds
        if until > state.paused_until:
            state.paused_until = until
            log.info("LLM model %s paused for %.1fs (provider asked to retry later)", model, seconds)
            self._wake_head(state)

    def snapshot(self) -> dict[str, dict[str, float]]:
        """Per model: ``requests`` and ``tokens`` available now, ``paused_for`` and ``waiting``, for metrics.

        Levels may be negative (debt after an oversized request or a charge)
        and are ``inf`` for an unlimited budget. ``paused_for`` is the seconds
        left of a 429 pause (0 when none): a monotonic deadline would mean
        nothing on a dashboard. ``waiting`` counts queued callers.
        """
        now = self._clock()
        result: dict[str, dict[str, float]] = {}
        for name, state in self._models.items():
            state.refill(now)
            result[name] = {
                "requests": math.inf if state.requests is None else state.requests.level,
                "tokens": math.inf if state.tokens is None else state.tokens.level,
                "paused_for": max(0.0, state.paused_until - now),
                "waiting": float(len(state.queue)),
            }
        return result

    def _model(self, model: str) -> _Model | None:
        """The model's state, created on first use; ``None`` for an unlimited, never-paused model."""
        state = self._models.get(model)
        if state is None:
            limits = self._limits.get(model, self._default)
            if limits is None:
                return None
            state = self._add(model, limits)
        return state

    def _add(self, model: str, limits: ModelLimits) -> _Model:
        now = self._clock()
        state = _Model(_bucket(limits.requests_per_minute, now), _bucket(limits.tokens_per_minute, now))
        self._models[model] = state
        return state

    def _dispatch(self, state: _Model) -> None:
        """Serve waiters from the head while they fit; wake the new head so it watches the clock."""
        now = self._clock()
        state.refill(now)
        served = False
        while state.queue and state.wait_for(state.queue[0].tokens, now) == 0.0:
            waiter = state.queue.popleft()
            state.take(waiter.tokens)
            waiter.granted = True
            _set(waiter.wake)
            served = True
        if served:
            self._wake_head(state)

    @staticmethod
    def _wake_head(state: _Model) -> None:
        """Make the head recompute its wait: the budget or the pause changed under it."""
        if state.queue:
            _set(state.queue[0].wake)

    async def _nap(self, seconds: float, wake: asyncio.Future[None]) -> None:
        """Sleep ``seconds``, or less if ``wake`` is set first (a refund, a new head, a pause)."""
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({sleeper, wake}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
        if sleeper.done() and not sleeper.cancelled():
            sleeper.result()  # a failing sleep is the caller's error, not a silent busy loop


def estimate_tokens(messages: Sequence[Mapping[str, str]], max_tokens: int) -> int:
    """A call's token budget before it is made: the prompt at about four characters a token, a few
    more per message for the chat framing, plus the reply's cap, so the estimate errs high.

    No tokenizer: the estimate only has to keep the bucket honest until :meth:`RateLimiter.settle`
    replaces it with the provider's count (CJK text, about a token a character, is underestimated,
    and settling charges the difference).
    """
    return sum(len(message["content"]) // 4 + 4 for message in messages) + max_tokens


def _set(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
