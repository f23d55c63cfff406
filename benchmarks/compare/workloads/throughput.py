"""Workload (a): N no-op jobs submitted at once; jobs per second until the last completed."""

from __future__ import annotations

import time

from benchmarks.compare.jobs import make_jobs
from benchmarks.compare.measurements import Figure
from benchmarks.compare.systems.base import System
from benchmarks.compare.workloads.common import Tally, wait_done

WORKLOAD = "throughput"


async def warm_up(system: System, count: int) -> None:
    """Jobs run before measuring (connections, JIT of the broker, group joins); not measured."""
    jobs = make_jobs(count, 50)
    await system.submit_many(jobs)
    if not await wait_done(system, [j.id for j in jobs], Tally(), timeout=180):
        raise RuntimeError(f"{system.name}: warm-up jobs did not complete")


async def run(system: System, count: int, *, repeat: int, timeout: float) -> list[Figure]:
    jobs = make_jobs(count, 200)
    ids = [j.id for j in jobs]
    tally = Tally()
    start = time.time()
    await system.submit_many(jobs)
    submitted = time.time() - start
    finished = await wait_done(system, ids, tally, timeout=timeout)
    done = len(ids) - len(tally.missing(ids))
    end = max((tally.first(i) for i in ids if i in tally.by_job), default=start)
    figures = [
        Figure(WORKLOAD, system.name, "tasks/s", done / max(end - start, 1e-9), repeat=repeat),
        Figure(WORKLOAD, system.name, "submit/s", count / max(submitted, 1e-9), repeat=repeat),
    ]
    if not finished:
        figures.append(Figure(WORKLOAD, system.name, "not completed", len(ids) - done, repeat=repeat))
    return figures
