"""RQ with Redis: one SimpleWorker process per concurrent job (RQ runs one job per worker)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from importlib.metadata import version
from pathlib import Path

import redis
from rq import Queue

from benchmarks.compare.env import BenchEnv
from benchmarks.compare.jobs import Completion, Job
from benchmarks.compare.redis_completions import ListCompletions
from benchmarks.compare.systems.base import System
from benchmarks.compare.systems.processes import kill9, spawn
from compose.processes import Child

FUNC = "benchmarks.compare.workers.rq_jobs.run"


class RqRedis(System):
    name = "RQ + Redis"
    durable = True

    def __init__(self, env: BenchEnv) -> None:
        self._env = env
        self._conn = redis.Redis.from_url(env.redis_url)
        self._queue: Queue | None = None
        self._done_key = ""
        self._completions: ListCompletions | None = None
        self._workers: list[Child] = []
        self._concurrency = 1

    async def start(self, concurrency: int) -> None:
        self._concurrency = concurrency
        name = f"rq-{uuid.uuid4().hex[:8]}"
        self._queue = Queue(name, connection=self._conn)
        self._done_key = f"{name}:done"
        self._completions = ListCompletions(self._env.redis_url, self._done_key)
        await self.start_worker()

    async def start_worker(self) -> None:
        assert self._queue is not None
        # SimpleWorker runs jobs in its own process: the default Worker forks per job.
        rq = str(Path(sys.executable).parent / "rq")
        argv = [
            rq,
            "worker",
            "-u",
            self._env.redis_url,
            "-w",
            "rq.worker.SimpleWorker",
            "-q",
            self._queue.name,
        ]
        log_dir = self._env.data_dir / self._queue.name
        self._workers = [spawn(f"rq-worker-{i}", argv, {}, log_dir) for i in range(self._concurrency)]

    def _send(self, jobs: list[Job]) -> None:
        assert self._queue is not None
        for start in range(0, len(jobs), 1000):
            chunk = jobs[start : start + 1000]
            data = [
                Queue.prepare_data(FUNC, (job.id, job.sleep_s, self._done_key), job_id=job.id, result_ttl=0)
                for job in chunk
            ]
            with self._conn.pipeline() as pipe:
                self._queue.enqueue_many(data, pipeline=pipe)
                pipe.execute()

    async def submit(self, job: Job) -> None:
        await asyncio.to_thread(self._send, [job])

    async def submit_many(self, jobs: list[Job]) -> None:  # type: ignore[override]
        await asyncio.to_thread(self._send, list(jobs))

    async def drain(self) -> list[Completion]:
        assert self._completions is not None
        return await self._completions.drain()

    async def stop_worker(self) -> None:
        for worker in self._workers:
            worker.stop()

    async def kill_worker(self) -> None:
        for worker in self._workers:
            kill9(worker)

    async def stop(self) -> None:
        for worker in self._workers:
            worker.stop()
        if self._completions is not None:
            await self._completions.close()

    def concurrency_note(self, concurrency: int) -> str:
        return f"{concurrency} `rq worker` processes (SimpleWorker, one job each at a time), no session order"

    def version(self) -> str:
        return f"rq {version('rq')}, redis-py {version('redis')}"
