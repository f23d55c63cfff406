"""Workload (b): end-to-end latency (submit → completion recorded) at fixed offered rates.

Open loop: job i is due at start + i/rate whatever earlier ones do, and its
latency counts from when it was due (no coordinated omission). The first
``warmup_s`` seconds of each rate are not counted.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.compare.jobs import make_jobs
from benchmarks.compare.measurements import Figure
from benchmarks.compare.systems.base import System
from benchmarks.compare.workloads.common import Tally, percentile, wait_done

WORKLOAD = "latency"


async def run(
    system: System, rate: float, duration_s: float, warmup_s: float, *, repeat: int
) -> list[Figure]:
    jobs = make_jobs(int(rate * (warmup_s + duration_s)), 200)
    due: dict[str, float] = {}
    start = time.time() + 0.05

    async def one(i: int) -> None:
        at = start + i / rate
        await asyncio.sleep(max(0.0, at - time.time()))
        due[jobs[i].id] = at
        await system.submit(jobs[i])

    await asyncio.gather(*(one(i) for i in range(len(jobs))))
    tally = Tally()
    ids = [j.id for j in jobs]
    await wait_done(system, ids, tally, timeout=60 + duration_s)
    measured = [i for i in ids if due[i] - start >= warmup_s]
    latencies = [(tally.first(i) - due[i]) * 1000 for i in measured if i in tally.by_job]
    param = f"{rate:g}/s"
    return [
        Figure(WORKLOAD, system.name, "p50 ms", percentile(latencies, 0.5), param, repeat),
        Figure(WORKLOAD, system.name, "p99 ms", percentile(latencies, 0.99), param, repeat),
        Figure(WORKLOAD, system.name, "missing", len(measured) - len(latencies), param, repeat),
    ]
