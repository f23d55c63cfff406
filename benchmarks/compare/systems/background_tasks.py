"""FastAPI ``BackgroundTasks`` in a uvicorn subprocess: one HTTP request per job, nothing persisted."""

from __future__ import annotations

import asyncio
import sys
import uuid
from importlib.metadata import version

import httpx

from benchmarks.compare.env import BenchEnv
from benchmarks.compare.jobs import Completion, Job
from benchmarks.compare.redis_completions import ListCompletions
from benchmarks.compare.systems.base import System, bounded
from benchmarks.compare.systems.processes import kill9, spawn, wait_http_ok
from compose.processes import Child, free_port

APP = "benchmarks.compare.workers.background_app:app"
# Requests in flight while submitting many jobs (as many chat requests would be).
SUBMIT_IN_FLIGHT = 64


class BackgroundTasksSystem(System):
    name = "FastAPI BackgroundTasks"
    durable = False

    def __init__(self, env: BenchEnv) -> None:
        self._env = env
        self._done_key = ""
        self._base = ""
        self._completions: ListCompletions | None = None
        self._client: httpx.AsyncClient | None = None
        self._server: Child | None = None
        self._concurrency = 1
        # Requests beyond the pool wait here, in order, not in httpx's pool: thousands
        # of waiters there cost the client quadratic CPU (and time out after 30 s).
        # The wait still counts in latency (b), which runs from each job's due time.
        self._in_flight = asyncio.Semaphore(SUBMIT_IN_FLIGHT)

    async def start(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._done_key = f"background-{uuid.uuid4().hex[:8]}:done"
        self._completions = ListCompletions(self._env.redis_url, self._done_key)
        limits = httpx.Limits(max_connections=SUBMIT_IN_FLIGHT, max_keepalive_connections=SUBMIT_IN_FLIGHT)
        self._client = httpx.AsyncClient(timeout=30.0, limits=limits)
        await self.start_worker()

    async def start_worker(self) -> None:
        port = free_port()
        self._base = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--no-access-log", "--log-level", "warning"]
        env = {
            "BENCH_REDIS_URL": self._env.redis_url,
            "BENCH_DONE_KEY": self._done_key,
            "BENCH_CONCURRENCY": str(self._concurrency),
        }
        self._server = spawn("uvicorn-background", argv, env, self._env.data_dir / "background")
        await wait_http_ok(f"{self._base}/health", self._server)

    async def submit(self, job: Job) -> None:
        assert self._client is not None
        async with self._in_flight:
            response = await self._client.post(
                f"{self._base}/jobs", json={"id": job.id, "sleep_s": job.sleep_s}
            )
        response.raise_for_status()

    async def submit_many(self, jobs: list[Job]) -> None:  # type: ignore[override]
        await bounded([self.submit(job) for job in jobs], SUBMIT_IN_FLIGHT)

    async def drain(self) -> list[Completion]:
        assert self._completions is not None
        return await self._completions.drain()

    async def kill_worker(self) -> None:
        if self._server is not None:
            kill9(self._server)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._client is not None:
            await self._client.aclose()
        if self._completions is not None:
            await self._completions.close()

    def concurrency_note(self, concurrency: int) -> str:
        return (
            f"1 uvicorn process, one POST per job (up to {SUBMIT_IN_FLIGHT} requests in flight), "
            f"tasks in its event loop limited to {concurrency} by a semaphore (stock BackgroundTasks "
            "has no limit), no session order, nothing persisted"
        )

    def version(self) -> str:
        return f"fastapi {version('fastapi')}, starlette {version('starlette')}, uvicorn {version('uvicorn')}"
