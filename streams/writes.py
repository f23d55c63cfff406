"""The records a piece of work wrote, awaited until Kafka acknowledged each one.

Faust's ``producer.flush()`` is not an acknowledgement: it returns after one
0.1 s wait in which nothing left its buffer, even with sends still pending,
and aiokafka's ``flush()`` does not raise a failed batch's error. So the
runtime never relies on a flush: every table write made while a
:class:`Writes` is current (a task's handler, its completion marker, a serial
agent's handler) registers its send's own future here, and the work awaits
:meth:`Writes.durable` before its input offset may be committed. A failed send
raises there, so the input is processed again instead of acked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_current: ContextVar[Writes | None] = ContextVar("feynman_writes", default=None)


class Writes:
    """Send futures of one piece of work, in the order they were sent."""

    def __init__(self) -> None:
        self._futures: list[asyncio.Future[object]] = []

    def add(self, future: asyncio.Future[object]) -> None:
        self._futures.append(future)

    def __len__(self) -> int:
        return len(self._futures)

    async def durable(self) -> None:
        """Return once every send registered so far is acknowledged; raise the first failure."""
        futures, self._futures = self._futures, []
        if futures:
            await asyncio.gather(*futures)


@contextlib.contextmanager
def collecting() -> Iterator[Writes]:
    """Make a new :class:`Writes` current for this task (and tasks it starts) while inside."""
    writes = Writes()
    token = _current.set(writes)
    try:
        yield writes
    finally:
        _current.reset(token)


def track(future: asyncio.Future[object]) -> None:
    """Register a send with the current piece of work, if any (a timer's sends have none)."""
    writes = _current.get()
    if writes is not None:
        writes.add(future)
