"""Workload (d): SIGKILL the worker once half the jobs completed, restart it, count the damage.

Lost: jobs never completed within the wait after the restart. Duplicated: jobs
whose completion was recorded more than once (ran again after the crash).
Recovery: seconds from the restart until the last job completed.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.compare.jobs import make_jobs
from benchmarks.compare.measurements import Figure
from benchmarks.compare.systems.base import System
from benchmarks.compare.workloads.common import Tally, wait_done

WORKLOAD = "crash"


async def run(system: System, count: int, sleep_s: float, *, repeat: int, wait_s: float = 90) -> list[Figure]:
    jobs = make_jobs(count, 50, sleep_s=(sleep_s, sleep_s), seed=repeat)
    ids = [j.id for j in jobs]
    tally = Tally()
    await system.submit_many(jobs)
    deadline = time.monotonic() + wait_s
    while len(tally.by_job) < count // 2 and time.monotonic() < deadline:
        tally.add(await system.drain())
        await asyncio.sleep(0.01)
    await system.kill_worker()
    restarted = time.time()
    await system.start_worker()
    # Wait for everything, then a little longer so late duplicates are seen too;
    # a system that keeps nothing across a crash gets nothing back by waiting.
    await wait_done(system, ids, tally, timeout=wait_s if system.durable else 5, settle=3)
    done = [i for i in ids if i in tally.by_job]
    last = max(tally.first(i) for i in done)
    lost = len(ids) - len(done)
    return [
        Figure(WORKLOAD, system.name, "lost", lost, repeat=repeat),
        Figure(WORKLOAD, system.name, "duplicated", tally.duplicated(ids), repeat=repeat),
        Figure(
            WORKLOAD,
            system.name,
            "recovery s",
            max(0.0, last - restarted) if not lost else float("nan"),
            repeat=repeat,
        ),
    ]
