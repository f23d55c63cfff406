"""Group concurrent writes into batches: up to N items or T seconds, whichever comes first.

Each caller awaits its own item's write, so a task completes only once its item
is stored (at-least-once holds), while the store sees one transaction per batch
instead of one per item. The write runs in a thread: SQLite and numpy block.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    """Collects items from concurrent callers and writes them with ``write(items)`` in batches."""

    def __init__(self, write: Callable[[Sequence[T]], None], *, max_items: int, max_delay_s: float) -> None:
        if max_items < 1 or max_delay_s <= 0:
            raise ValueError("max_items and max_delay_s must be positive")
        self._write = write
        self._max_items = max_items
        self._max_delay_s = max_delay_s
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        # Flushes under way, referenced so the loop does not collect them mid-write.
        self._flushing: set[asyncio.Task[None]] = set()
        self.batches = 0

    async def submit(self, item: T) -> None:
        """Add ``item``; returns once the batch holding it is written (raises if that failed)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if len(self._pending) >= self._max_items:
            self._flush_now()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._max_delay_s, self._flush_now)
        await asyncio.shield(done)

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.ensure_future(self._flush(batch))
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)

    async def _flush(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await asyncio.to_thread(self._write, [item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch, who retries
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        self.batches += 1
        for _, done in batch:
            if not done.done():
                done.set_result(None)
