"""Runs every workload through every system, repeats alternating the systems' order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.compare import kafka_perf, versions
from benchmarks.compare.env import BenchEnv
from benchmarks.compare.measurements import Figure
from benchmarks.compare.sizes import Sizes
from benchmarks.compare.systems.base import System
from benchmarks.compare.workloads import crash, latency, llm, restart, throughput

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


SUBMIT_PATHS = (
    "How jobs are handed over: this pipeline's by the bench process with the API's own publisher "
    "(one record, the event, idempotent, acks=all), without the HTTP hop in front of it, so "
    "(a) measures the worker rather than an HTTP client; FastAPI BackgroundTasks' by one HTTP POST "
    "each, which that design cannot do without, so its submit/s and tasks/s are bounded by HTTP "
    "requests from a Python client; Celery's and RQ's by their client libraries; raw aiokafka's by a "
    "producer like the pipeline's."
)


@dataclass(frozen=True, slots=True)
class Step:
    """Which repeat of how many is running, as progress lines name it."""

    repeat: int
    repeats: int

    def __str__(self) -> str:
        return f"repeat {self.repeat + 1}/{self.repeats}"


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
    env: BenchEnv, systems: list[System], sizes: Sizes, step: Step, outcome: Outcome, progress: Progress
) -> None:
    progress(f"{step}: Kafka perf tools: broker ceiling")
    outcome.figures += await kafka_perf.run(
        env.bootstrap, sizes.perf_records, env.partitions, repeat=step.repeat
    )
    shift = step.repeat % len(systems)
    for system in systems[shift:] + systems[:shift]:
        concurrency = NOOP_CONCURRENCY[system.name]
        outcome.concurrency.setdefault(f"{system.name} (no-op)", system.concurrency_note(concurrency))
        outcome.versions.setdefault(system.name, system.version())
        progress(f"{step}: {system.name}: throughput and latency")
        try:
            await system.start(concurrency)
            await throughput.warm_up(system, sizes.warmup_tasks)
            outcome.figures += await throughput.run(system, sizes.tasks, repeat=step.repeat, timeout=600)
            for rate in sizes.rates:
                await system.settle()
                outcome.figures += await latency.run(
                    system, rate, sizes.rate_duration_s, sizes.rate_warmup_s, repeat=step.repeat
                )
        finally:
            await system.stop()


async def llm_workload(
    systems: list[System], sizes: Sizes, step: Step, outcome: Outcome, progress: Progress
) -> None:
    for concurrency in sizes.llm_concurrency:
        for system in systems:
            outcome.concurrency.setdefault(f"{system.name} (LLM-like)", system.concurrency_note(concurrency))
            progress(f"{step}: {system.name}: LLM-like jobs, concurrency {concurrency}")
            try:
                await system.start(concurrency)
                await throughput.warm_up(system, 20)
                outcome.figures += await llm.run(
                    system,
                    sizes.llm_tasks,
                    sizes.llm_sessions,
                    sizes.llm_sleep_s,
                    concurrency,
                    repeat=step.repeat,
                )
            finally:
                await system.stop()


async def crash_workload(
    systems: list[System], sizes: Sizes, step: Step, outcome: Outcome, progress: Progress
) -> None:
    for system in systems:
        progress(f"{step}: {system.name}: worker killed halfway")
        try:
            await system.start(NOOP_CONCURRENCY[system.name])
            await throughput.warm_up(system, 20)
            outcome.figures += await crash.run(
                system, sizes.crash_tasks, sizes.crash_sleep_s, repeat=step.repeat
            )
        finally:
            await system.stop()


async def restart_workload(
    env: BenchEnv, systems: list[System], sizes: Sizes, step: Step, outcome: Outcome, progress: Progress
) -> None:
    stores = ["rocksdb://", "memory://"]
    outcome.concurrency["this pipeline (restart)"] = (
        "1 Faust worker, task type concurrency=16, stopped with SIGTERM"
    )
    outcome.concurrency["Celery + Redis (restart)"] = (
        "1 worker process, --pool threads -c 2, stopped with SIGTERM"
    )
    outcome.concurrency["RQ + Redis (restart)"] = "2 `rq worker` processes, stopped with SIGTERM"
    entries = sizes.restart_entries
    for store in stores:
        progress(f"{step}: this pipeline ({store}): restart with {entries:,} status entries")
        outcome.figures += await restart.pipeline(
            env, store, entries, repeat=step.repeat, notes=outcome.notes
        )
    for system in systems:
        if system.name in restart.RESULT_PREFIX:
            progress(f"{step}: {system.name}: restart with {entries:,} results in Redis")
            outcome.figures += await restart.redis_worker(system, env, entries, repeat=step.repeat)
    progress(f"{step}: redis-server restart with {entries:,} keys")
    outcome.figures += await asyncio.to_thread(
        restart.redis_restart, env.data_dir, entries, repeat=step.repeat
    )


ALL = ("noop", "llm", "crash", "restart")


def run(
    env: BenchEnv,
    sizes: Sizes,
    repeats: int,
    progress: Progress,
    workloads: tuple[str, ...] = ALL,
    after_repeat: Callable[[Outcome, int], None] | None = None,
) -> Outcome:
    """Every workload once per repeat; ``after_repeat(outcome, done)`` sees the figures of each finished one.

    Repeats are the outer loop so that a run stopped early still holds
    complete repeats of every workload, which the caller can report.
    """
    outcome = Outcome(versions=versions.collect())
    outcome.notes.append(
        f"Warm-up, not counted: (a) and (b) {sizes.warmup_tasks:,} jobs after each system starts, and "
        "(b) starts each rate once the system is idle (this pipeline: its group committed "
        f"every earlier event) and leaves out the rate's first {sizes.rate_warmup_s:g} s; (c), (d) "
        "and (e) 20 jobs after each start; the Kafka perf tools time themselves after the JVM started."
    )
    outcome.notes.append(SUBMIT_PATHS)
    if "noop" in workloads:
        outcome.notes.append(kafka_perf.note(sizes.perf_records, env.partitions))

    async def main() -> None:
        systems = make_systems(env)
        for repeat in range(repeats):
            step = Step(repeat, repeats)
            if "noop" in workloads:
                await noop_workloads(env, systems, sizes, step, outcome, progress)
            if "llm" in workloads:
                await llm_workload(systems, sizes, step, outcome, progress)
            if "crash" in workloads:
                await crash_workload(systems, sizes, step, outcome, progress)
            if "restart" in workloads:
                await restart_workload(env, systems, sizes, step, outcome, progress)
            if after_repeat is not None:
                after_repeat(outcome, repeat + 1)

    asyncio.run(main())
    return outcome
