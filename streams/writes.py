"""The table rows a piece of work wrote, awaited until Kafka acknowledged each one.

Faust's ``producer.flush()`` is not an acknowledgement: it returns after one
0.1 s wait in which nothing left its buffer, even with sends still pending,
and aiokafka's ``flush()`` does not raise a failed batch's error. So the
runtime never relies on a flush: every table write made while a
:class:`Writes` is current (a task's handler and its status row, a serial
agent's handler) registers its send's own future here, and the work's input is
acked only once :meth:`Writes.durable` returned.

A send Kafka refused is sent again with the row's current value, until it is
acknowledged: the table in memory is right, only its changelog missed a
record, and the latest value of a key is all a compacted changelog keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

from aiokafka.errors import MessageSizeTooLargeError

log = logging.getLogger(__name__)

_current: ContextVar[Writes | None] = ContextVar("feynman_writes", default=None)

FIRST_RETRY_S = 0.2
MAX_RETRY_S = 5.0


class Resendable(Protocol):
    """A table that can send a row's current value again (``StrKeyTable``)."""

    def resend(self, key: Any, partition: int | None) -> asyncio.Future[Any]: ...


class GivenUpError(Exception):
    """The work's partition was given up (rebalance, stop) before its rows were acknowledged."""


class Writes:
    """Send futures of one piece of work, each with the row it carries."""

    def __init__(self) -> None:
        self._sent: list[tuple[Resendable, Any, asyncio.Future[Any]]] = []
        self.resent = 0

    def add(self, table: Resendable, key: Any, future: asyncio.Future[Any]) -> None:
        self._sent.append((table, key, future))

    def __len__(self) -> int:
        return len(self._sent)

    async def durable(self, given_up: asyncio.Event | None = None) -> None:
        """Return once every row registered so far is acknowledged.

        A refused send is sent again (its row's current value, to the same
        partition) after a pause, for as long as Kafka refuses it; raises
        :class:`GivenUpError` if ``given_up`` is set meanwhile, and a record
        Kafka can never take (too large) at once.
        """
        delay = FIRST_RETRY_S
        while self._sent:
            sent, self._sent = self._sent, []
            results = await asyncio.gather(*(future for _, _, future in sent), return_exceptions=True)
            refused = [
                (entry, result)
                for entry, result in zip(sent, results, strict=True)
                if isinstance(result, BaseException)
            ]
            if not refused:
                continue
            for _, error in refused:
                if isinstance(error, MessageSizeTooLargeError | asyncio.CancelledError):
                    raise error
            log.warning(
                "%d row(s) not acknowledged (%r): sending again in %.1f s", len(refused), refused[0][1], delay
            )
            if given_up is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(given_up.wait(), delay)
                if given_up.is_set():
                    raise GivenUpError("the partition was given up before its rows were acknowledged")
            else:
                await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)
            for (table, key, future), _ in refused:
                partition = getattr(getattr(future, "message", None), "partition", None)
                self.add(table, key, table.resend(key, partition))
                self.resent += 1


@contextlib.contextmanager
def collecting() -> Iterator[Writes]:
    """Make a new :class:`Writes` current for this task (and tasks it starts) while inside."""
    writes = Writes()
    token = _current.set(writes)
    try:
        yield writes
    finally:
        _current.reset(token)


def track(table: Resendable, key: Any, future: asyncio.Future[Any]) -> None:
    """Register a row's send with the current piece of work, if any (a timer's sends have none)."""
    writes = _current.get()
    if writes is not None:
        writes.add(table, key, future)
