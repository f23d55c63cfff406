"""Waiting for jobs' completions, shared by the workloads."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable

from benchmarks.compare.jobs import Completion
from benchmarks.compare.systems.base import System


class Tally:
    """Every completion seen, by job id (a job completed twice has two)."""

    def __init__(self) -> None:
        self.by_job: dict[str, list[Completion]] = defaultdict(list)

    def add(self, completions: Iterable[Completion]) -> None:
        for c in completions:
            self.by_job[c.job_id].append(c)

    def first(self, job_id: str) -> float:
        return min(c.at for c in self.by_job[job_id])

    def missing(self, ids: Iterable[str]) -> list[str]:
        return [i for i in ids if i not in self.by_job]

    def duplicated(self, ids: Iterable[str]) -> int:
        return sum(1 for i in ids if len(self.by_job.get(i, ())) > 1)


async def wait_done(
    system: System, ids: list[str], tally: Tally, *, timeout: float, settle: float = 0.0
) -> bool:
    """Drain into ``tally`` until every id completed (then ``settle`` more seconds) or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tally.add(await system.drain())
        if not tally.missing(ids):
            end = time.monotonic() + settle
            while time.monotonic() < end:
                await asyncio.sleep(0.2)
                tally.add(await system.drain())
            return True
        await asyncio.sleep(0.02)
    return False


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
