"""Runs every workload through every system, repeats alternating the systems' order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.compare.env import BenchEnv
from benchmarks.compare.measurements import Figure
from benchmarks.compare.sizes import Sizes
from benchmarks.compare.systems.base import System
from benchmarks.compare.workloads import crash, latency, llm, throughput

Progress = Callable[[str], None]
# Jobs in flight for the no-op workloads: asyncio systems (BackgroundTasks runs
# in uvicorn's event loop) take many at little cost; Celery's threads and RQ's
# processes are sized to the two cores.
NOOP_CONCURRENCY = {
    "this pipeline": 100,
    "raw aiokafka": 100,
    "asyncio.Queue (in-process)": 100,
    "FastAPI BackgroundTasks": 100,
    "Celery + Redis": 8,
    "RQ + Redis": 2,
}


@dataclass
class Outcome:
    figures: list[Figure] = field(default_factory=list)
    concurrency: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def make_systems(env: BenchEnv, names: set[str] | None = None) -> list[System]:
    from benchmarks.compare.systems.asyncio_queue import AsyncioQueue
    from benchmarks.compare.systems.background_tasks import BackgroundTasksSystem
    from benchmarks.compare.systems.pipeline import Pipeline
    from benchmarks.compare.systems.raw_kafka import RawKafka

    systems: list[System] = [Pipeline(env), RawKafka(env), AsyncioQueue(), BackgroundTasksSystem(env)]
    try:
        from benchmarks.compare.systems.celery_redis import CeleryRedis
        from benchmarks.compare.systems.rq_redis import RqRedis
    except ImportError:  # the bench extra is not installed
        pass
    else:
        systems += [CeleryRedis(env), RqRedis(env)]
    return [s for s in systems if names is None or s.name in names]


async def noop_workloads(
    systems: list[System], sizes: Sizes, repeats: int, outcome: Outcome, progress: Progress
) -> None:
    for repeat in range(repeats):
        shift = repeat % len(systems)
        for system in systems[shift:] + systems[:shift]:
            concurrency = NOOP_CONCURRENCY[system.name]
            outcome.concurrency.setdefault(f"{system.name} (no-op)", system.concurrency_note(concurrency))
            outcome.versions.setdefault(system.name, system.version())
            progress(f"repeat {repeat + 1}/{repeats}: {system.name}: throughput and latency")
            try:
                await system.start(concurrency)
                await throughput.warm_up(system, sizes.warmup_tasks)
                outcome.figures += await throughput.run(system, sizes.tasks, repeat=repeat, timeout=600)
                for rate in sizes.rates:
                    outcome.figures += await latency.run(
                        system, rate, sizes.rate_duration_s, sizes.rate_warmup_s, repeat=repeat
                    )
            finally:
                await system.stop()


async def llm_workload(
    systems: list[System], sizes: Sizes, repeats: int, outcome: Outcome, progress: Progress
) -> None:
    for repeat in range(repeats):
        for concurrency in sizes.llm_concurrency:
            for system in systems:
                outcome.concurrency.setdefault(
                    f"{system.name} (LLM-like)", system.concurrency_note(concurrency)
                )
                progress(
                    f"repeat {repeat + 1}/{repeats}: {system.name}: LLM-like jobs, concurrency {concurrency}"
                )
                try:
                    await system.start(concurrency)
                    await throughput.warm_up(system, 20)
                    outcome.figures += await llm.run(
                        system,
                        sizes.llm_tasks,
                        sizes.llm_sessions,
                        sizes.llm_sleep_s,
                        concurrency,
                        repeat=repeat,
                    )
                finally:
                    await system.stop()


async def crash_workload(
    systems: list[System], sizes: Sizes, repeats: int, outcome: Outcome, progress: Progress
) -> None:
    for repeat in range(repeats):
        for system in systems:
            progress(f"repeat {repeat + 1}/{repeats}: {system.name}: worker killed halfway")
            try:
                await system.start(NOOP_CONCURRENCY[system.name])
                await throughput.warm_up(system, 20)
                outcome.figures += await crash.run(
                    system, sizes.crash_tasks, sizes.crash_sleep_s, repeat=repeat
                )
            finally:
                await system.stop()


ALL = ("noop", "llm", "crash")


def run(
    env: BenchEnv, sizes: Sizes, repeats: int, progress: Progress, workloads: tuple[str, ...] = ALL
) -> Outcome:
    outcome = Outcome()

    async def main() -> None:
        systems = make_systems(env)
        if "noop" in workloads:
            await noop_workloads(systems, sizes, repeats, outcome, progress)
        if "llm" in workloads:
            await llm_workload(systems, sizes, repeats, outcome, progress)
        if "crash" in workloads:
            await crash_workload(systems, sizes, repeats, outcome, progress)

    asyncio.run(main())
    return outcome
