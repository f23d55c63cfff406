"""Work whose records Kafka did not take is done again in place, until it is recorded.

Done again in place, not republished: the input stays unacked and keeps its
key's turn and its slot, so per-key order holds. A pass that finds its own
rows already written sends them again rather than redo the work
(``Executor.execute``), so the work itself need not know it is a redo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka.errors import KafkaError

from streams.task_metrics import TaskMetrics

log = logging.getLogger(__name__)

T = TypeVar("T")
# What dead-letters the input once an error other than Kafka's outlived REDO_ATTEMPTS.
GiveUp = Callable[[Exception], Awaitable[Any]]
# Pauses between passes (doubling); errors other than Kafka's give up after REDO_ATTEMPTS passes.
REDO_FIRST_DELAY_S = 0.2
REDO_MAX_DELAY_S = 5.0
REDO_ATTEMPTS = 5


async def until_recorded(
    work: Callable[[], Awaitable[T]],
    what: str,
    *,
    given_up: asyncio.Event,
    metrics: TaskMetrics,
    give_up: GiveUp | None = None,
) -> T | None:
    """Run ``work`` until it succeeds; returns what it returned (None once given up to a dead letter).

    Kafka's errors are tried again for as long as they last (the broker is
    away); any other error ``REDO_ATTEMPTS`` times, then ``give_up``
    dead-letters the input. Raises when ``given_up`` is set meanwhile (a
    rebalance or a stop: the partition's next owner reads the input again).
    """
    delay = REDO_FIRST_DELAY_S
    attempts = 0
    while True:
        try:
            return await work()
        except Exception as exc:
            attempts += 1
            if given_up.is_set():
                raise
            metrics.redone[what] += 1
            if give_up is not None and not isinstance(exc, KafkaError) and attempts >= REDO_ATTEMPTS:
                log.exception("%s failed %d times; dead-lettering its input", what, attempts)

                async def dead_letter(exc: Exception = exc) -> None:
                    await give_up(exc)

                await until_recorded(dead_letter, f"{what}:dead_letter", given_up=given_up, metrics=metrics)
                return None
            log.warning("%s not recorded (%r); doing it again in %.1f s", what, exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(given_up.wait(), delay)
            if given_up.is_set():
                raise
            delay = min(delay * 2, REDO_MAX_DELAY_S)
