"""Workload (c): LLM-like jobs (each waits 1-5 s) over many sessions, at growing concurrency.

Reports the time until the last job completed and how many jobs completed
before an earlier job of their own session (per-session order violations).
"""

from __future__ import annotations

import time
from collections import defaultdict

from benchmarks.compare.jobs import Job, make_jobs
from benchmarks.compare.measurements import Figure
from benchmarks.compare.systems.base import System
from benchmarks.compare.workloads.common import Tally, wait_done

WORKLOAD = "llm"


def order_violations(jobs: list[Job], tally: Tally) -> int:
    """Jobs that completed before a job submitted earlier in the same session."""
    sessions: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        if job.id in tally.by_job:
            sessions[job.session].append(job)
    count = 0
    for members in sessions.values():
        latest = float("-inf")
        for job in sorted(members, key=lambda j: j.seq):
            at = tally.first(job.id)
            if at < latest:
                count += 1
            latest = max(latest, at)
    return count


async def run(
    system: System, count: int, sessions: int, sleep_s: tuple[float, float], concurrency: int, *, repeat: int
) -> list[Figure]:
    jobs = make_jobs(count, sessions, sleep_s=sleep_s, seed=repeat)
    ids = [j.id for j in jobs]
    tally = Tally()
    start = time.time()
    await system.submit_many(jobs)
    budget = 60 + 3 * sum(j.sleep_s for j in jobs) / concurrency
    await wait_done(system, ids, tally, timeout=budget)
    done = [i for i in ids if i in tally.by_job]
    end = max((tally.first(i) for i in done), default=start)
    param = f"c={concurrency}"
    return [
        Figure(WORKLOAD, system.name, "completion s", end - start, param, repeat),
        Figure(WORKLOAD, system.name, "order violations", order_violations(jobs, tally), param, repeat),
        Figure(WORKLOAD, system.name, "not completed", len(ids) - len(done), param, repeat),
    ]
