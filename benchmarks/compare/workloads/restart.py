"""Workload (e): how long a restarted worker takes to serve again when it holds many finished tasks.

This pipeline keeps task status in a changelog-backed table: a worker that
restarts rebuilds it (memory store: from the whole changelog; RocksDB: from
its files plus the changelog's tail). The entries are written straight to the
changelog (a million tasks through the worker would take the better part of an
hour here), so a RocksDB worker is restarted once, unmeasured, to hold them in
its files as it would had it written them. Celery and RQ keep results in Redis, so
their worker has nothing to rebuild; their state store's own restart, Redis
reloading its append-only file, is the part that grows with the entries, and
is measured as a row of its own.

Ready: seconds from spawning the worker until its health route answers 200
(the pipeline's /health/ answers 200 only once recovery ended). First event:
seconds from spawning until a newly submitted job's completion was recorded.
Entries kept: share of a sample of the filled entries still readable.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.compare.env import BenchEnv, redis_server
from benchmarks.compare.jobs import make_jobs
from benchmarks.compare.measurements import Figure
from benchmarks.compare.status_fill import (
    delete_keys,
    fill_redis_results,
    fill_status_topic,
    redis_kept,
    sample_kept,
)
from benchmarks.compare.systems.base import System
from benchmarks.compare.systems.pipeline import Pipeline
from benchmarks.compare.workloads.common import Tally, wait_done
from benchmarks.compare.workloads.throughput import warm_up

WORKLOAD = "restart"
REDIS_RESTART = "Redis server restart (AOF reload)"
# Celery's and RQ's result keys, as their backends name them.
RESULT_PREFIX = {"Celery + Redis": "celery-task-meta-", "RQ + Redis": "rq:job:"}


async def _first_event(system: System, spawned: float) -> float:
    job = make_jobs(1, 1)[0]
    await system.submit(job)
    if not await wait_done(system, [job.id], Tally(), timeout=600):
        raise RuntimeError(f"{system.name}: no completion after the restart")
    return time.monotonic() - spawned


def worker_crashes(log_dir: Path) -> str | None:
    """The first agent crash a worker logged, if any (figures of a crashed worker mean little)."""
    for log in sorted(log_dir.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if "Crashed reason=" in line:
                return line.split("]: ", 1)[-1].strip()
    return None


async def pipeline(env: BenchEnv, store: str, entries: int, *, repeat: int, notes: list[str]) -> list[Figure]:
    system = Pipeline(env, store=store)
    label = f"this pipeline, {store}"
    try:
        await system.start(16)
        logs = system.settings.data_dir / "logs"
        await warm_up(system, 20)
        ids = await fill_status_topic(system.settings, entries)
        if worker_crashes(logs) is not None:
            return []  # the note below says why
        if store != "memory://":
            # The rows were written past the worker, straight to its changelog: one restart
            # takes them into its local store, as if it had written them itself.
            await system.stop_worker()
            await system.start_worker()
        await system.stop_worker()
        spawned = time.monotonic()
        await system.start_worker()
        ready = time.monotonic() - spawned
        first = await _first_event(system, spawned)
        kept = await sample_kept(system.settings.worker_base_url, ids)
    finally:
        await system.stop()
        crash = worker_crashes(system.settings.data_dir / "logs")
        if crash is not None:
            notes.append(f"(e) {label}: not measured, the worker's agent crashed: {crash}")
    if crash is not None:
        return []
    return [
        Figure(WORKLOAD, label, "ready s", ready, repeat=repeat),
        Figure(WORKLOAD, label, "first event s", first, repeat=repeat),
        Figure(WORKLOAD, label, "entries kept %", kept, repeat=repeat),
    ]


async def redis_worker(system: System, env: BenchEnv, entries: int, *, repeat: int) -> list[Figure]:
    keys: list[str] = []
    try:
        await system.start(2)
        await warm_up(system, 20)
        keys = fill_redis_results(env.redis_url, entries, RESULT_PREFIX[system.name])
        await system.stop_worker()
        spawned = time.monotonic()
        await system.start_worker()
        first = await _first_event(system, spawned)
        kept = redis_kept(env.redis_url, keys)
    finally:
        await system.stop()
        delete_keys(env.redis_url, keys)
    return [
        Figure(WORKLOAD, system.name, "first event s", first, repeat=repeat),
        Figure(WORKLOAD, system.name, "entries kept %", kept, repeat=repeat),
    ]


def redis_restart(data_dir: Path, entries: int, *, repeat: int) -> list[Figure]:
    """A private redis-server filled with ``entries`` results, stopped (SIGTERM) and started again."""
    directory = data_dir / f"redis-restart-{repeat}"
    with redis_server(directory) as url:
        keys = fill_redis_results(url, entries, RESULT_PREFIX["Celery + Redis"])
    spawned = time.monotonic()
    with redis_server(directory) as url:  # returns once PING answers: loading ended
        ready = time.monotonic() - spawned
        kept = redis_kept(url, keys)
    return [
        Figure(WORKLOAD, REDIS_RESTART, "ready s", ready, repeat=repeat),
        Figure(WORKLOAD, REDIS_RESTART, "entries kept %", kept, repeat=repeat),
    ]
