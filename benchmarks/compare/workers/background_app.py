"""The old service's way: a FastAPI endpoint that hands the job to ``BackgroundTasks``.

``uvicorn benchmarks.compare.workers.background_app:app`` with
``BENCH_REDIS_URL``, ``BENCH_DONE_KEY`` and ``BENCH_CONCURRENCY``. Each
``POST /jobs`` is one job (as each chat turn was one background task); the
task runs in the server's event loop after the response went out and records
its completion on a Redis list, outside the process, so a SIGKILL of the
server loses exactly the jobs that were accepted but not yet done.

Stock ``BackgroundTasks`` has no concurrency limit; the semaphore gives it the
same limit as the other systems, so the workloads compare like with like.
"""

from __future__ import annotations

import asyncio
import os
import time

import redis.asyncio as aioredis
from fastapi import BackgroundTasks, FastAPI
from pydantic import BaseModel

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DONE_KEY = os.environ.get("BENCH_DONE_KEY", "background:done")
LIMIT = asyncio.Semaphore(int(os.environ.get("BENCH_CONCURRENCY", "1")))

app = FastAPI()
_client = aioredis.Redis.from_url(URL)


class JobIn(BaseModel):
    id: str
    sleep_s: float = 0.0


async def run(job_id: str, sleep_s: float) -> None:
    async with LIMIT:
        if sleep_s > 0:
            await asyncio.sleep(sleep_s)
        await _client.rpush(DONE_KEY, f"{job_id} {time.time()}")


@app.post("/jobs", status_code=202)
async def submit(job: JobIn, background: BackgroundTasks) -> dict[str, str]:
    background.add_task(run, job.id, job.sleep_s)
    return {"accepted": job.id}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
