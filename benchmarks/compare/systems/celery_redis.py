"""Celery with a Redis broker, thread pool, acks late."""

from __future__ import annotations

import asyncio
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version

from benchmarks.compare.env import BenchEnv
from benchmarks.compare.jobs import Completion, Job
from benchmarks.compare.redis_completions import ListCompletions
from benchmarks.compare.systems.base import WorkerProcess
from benchmarks.compare.systems.processes import spawn
from compose.processes import Child


class CeleryRedis(WorkerProcess):
    name = "Celery + Redis"
    durable = True

    def __init__(self, env: BenchEnv) -> None:
        from benchmarks.compare.workers.celery_app import TASK, make_app

        self._env = env
        self._app = make_app(env.redis_url)
        self._task = TASK
        self._queue = ""
        self._done_key = ""
        self._completions: ListCompletions | None = None
        self._worker: Child | None = None
        self._concurrency = 1
        # One thread sends: a Celery producer is not meant to be shared across threads.
        self._sender = ThreadPoolExecutor(1)

    async def start(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._queue = f"celery-{uuid.uuid4().hex[:8]}"
        self._done_key = f"{self._queue}:done"
        self._completions = ListCompletions(self._env.redis_url, self._done_key)
        await self.start_worker()

    async def start_worker(self) -> None:
        argv = [sys.executable, "-m", "celery", "-A", "benchmarks.compare.workers.celery_app", "worker"]
        argv += ["--pool", "threads", "-c", str(self._concurrency), "-Q", self._queue, "-l", "warning"]
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        self._worker = spawn(
            "celery-worker", argv, {"BENCH_REDIS_URL": self._env.redis_url}, self._env.data_dir / self._queue
        )

    def _send(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._app.send_task(self._task, args=(job.id, job.sleep_s, self._done_key), queue=self._queue)

    async def submit(self, job: Job) -> None:
        await asyncio.get_running_loop().run_in_executor(self._sender, self._send, [job])

    async def submit_many(self, jobs: list[Job]) -> None:  # type: ignore[override]
        await asyncio.get_running_loop().run_in_executor(self._sender, self._send, list(jobs))

    async def drain(self) -> list[Completion]:
        assert self._completions is not None
        return await self._completions.drain()

    async def stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        if self._completions is not None:
            await self._completions.close()

    def concurrency_note(self, concurrency: int) -> str:
        return f"1 worker process, --pool threads -c {concurrency}, prefetch x4, acks_late"

    def version(self) -> str:
        return f"celery {version('celery')}, kombu {version('kombu')}, redis-py {version('redis')}"
