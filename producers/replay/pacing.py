"""An events-per-second ceiling for a replay, so it cannot flood the lane it feeds."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Spaces sends ``1/rate`` s apart on average; ``rate=None`` never waits.

    The schedule is absolute (n-th send not before ``start + n/rate``), so
    time spent elsewhere (awaiting acks, checkpoints) is made up, not lost.
    """

    def __init__(self, rate: float | None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        self._start: float | None = None
        self._count = 0

    async def wait(self) -> None:
        if self._rate is None:
            return
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + self._count / self._rate
        self._count += 1
        if due > now:
            await asyncio.sleep(due - now)
