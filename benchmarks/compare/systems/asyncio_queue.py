"""An in-process ``asyncio.Queue`` with worker coroutines: nothing between the caller and the work."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

from benchmarks.compare.jobs import Completion, Job
from benchmarks.compare.systems.base import System


class AsyncioQueue(System):
    name = "asyncio.Queue (in-process)"
    durable = False

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._done: list[Completion] = []
        self._concurrency = 1

    async def start(self, concurrency: int) -> None:
        self._concurrency = concurrency
        await self.start_worker()

    async def start_worker(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(self._concurrency)]

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            if job.sleep_s > 0:
                await asyncio.sleep(job.sleep_s)
            self._done.append(Completion(job.id, time.time()))

    async def submit(self, job: Job) -> None:
        self._queue.put_nowait(job)

    async def drain(self) -> list[Completion]:
        out, self._done = self._done, []
        return out

    async def kill_worker(self) -> None:
        # A crash of the process takes the queue and the jobs in flight with it.
        await self._cancel()
        self._queue = asyncio.Queue()

    async def _cancel(self) -> None:
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        await self._cancel()

    def concurrency_note(self, concurrency: int) -> str:
        return f"{concurrency} worker coroutines in the submitting process, no per-session order"

    def version(self) -> str:
        return f"Python {sys.version.split()[0]}"
