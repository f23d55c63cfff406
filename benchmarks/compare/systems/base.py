"""The small interface every compared system implements."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from benchmarks.compare.jobs import Completion, Job
from benchmarks.compare.systems.processes import kill9
from compose.processes import Child


class System(ABC):
    """A way to run background jobs: a worker, a queue between, a record of completions.

    ``start`` brings up a fresh queue (or topics) and a worker running at most
    ``concurrency`` jobs at once; completions are what the system itself
    records when a job finished (a status event, a Redis entry, a list).
    """

    name: ClassVar[str]
    # Whether an accepted job survives a crash of the worker (by design).
    durable: ClassVar[bool]

    @abstractmethod
    async def start(self, concurrency: int) -> None: ...

    @abstractmethod
    async def submit(self, job: Job) -> None:
        """Hand one job over; returns once the system accepted it."""

    async def submit_many(self, jobs: Sequence[Job]) -> None:
        """Hand many jobs over as fast as the system takes them (in order per session)."""
        for job in jobs:
            await self.submit(job)

    async def settle(self) -> None:
        """Until work a finished measurement left behind is done, so the next one starts idle.

        Most systems have none once every job completed; the pipeline still
        folds the burst's statuses into its table (same worker process).
        """
        return None

    @abstractmethod
    async def drain(self) -> list[Completion]:
        """Completions recorded since the last call."""

    @abstractmethod
    async def kill_worker(self) -> None:
        """SIGKILL the worker (or lose its in-memory state, for in-process systems)."""

    async def stop_worker(self) -> None:
        """Stop the worker as a deploy would (SIGTERM, let it finish); SIGKILL where it has no other way."""
        await self.kill_worker()

    @abstractmethod
    async def start_worker(self) -> None:
        """Start the worker again after :meth:`kill_worker`."""

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    def concurrency_note(self, concurrency: int) -> str:
        """How the system runs ``concurrency`` jobs at once, for the report."""

    @abstractmethod
    def version(self) -> str: ...


class WorkerProcess(System):
    """A system whose worker is one subprocess (``self._worker``)."""

    _worker: Child | None = None

    async def kill_worker(self) -> None:
        if self._worker is not None:
            kill9(self._worker)


async def bounded(coros: Sequence[object], limit: int) -> None:
    """Await coroutines with at most ``limit`` in flight (for batch submission)."""
    sem = asyncio.Semaphore(limit)

    async def one(coro: object) -> None:
        async with sem:
            await coro  # type: ignore[misc]

    await asyncio.gather(*(one(c) for c in coros))
