"""One producer flush for many tasks waiting to make their writes durable.

Faust's ``producer.flush()`` drains the whole buffer and polls it in 0.1 s
steps; a hundred tasks flushing at once each wait through everyone's
messages. :class:`GroupFlush` lets every caller wait for one flush that
started after it asked (so it covers the caller's writes) and runs at most
one at a time: a group commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class GroupFlush:
    def __init__(self, flush: Callable[[], Awaitable[None]]) -> None:
        self._flush = flush
        self._next: asyncio.Future[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self.flushes = 0

    async def __call__(self) -> None:
        """Return once everything written before the call is acknowledged."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        waiter = self._next
        if self._runner is None or self._runner.done():
            self._runner = asyncio.ensure_future(self._run())
        await asyncio.shield(waiter)

    async def _run(self) -> None:
        while self._next is not None:
            batch, self._next = self._next, None
            try:
                await self._flush()
            except Exception as exc:  # noqa: BLE001 - handed to every waiter of this flush
                batch.set_exception(exc)
            else:
                batch.set_result(None)
            self.flushes += 1
