"""How soon a finished task's status is readable on the API: ``feynman bench status``.

A burst of no-op tasks is published at once to a worker (from a thread of its own); the API's read model
(the one ``GET /task/{id}`` answers from, ``producers/webview/``) runs in this
process and notes, for every ``completed`` row it applies, how long after the
row's time (the worker's clock, on this same machine) it became readable. Also
printed: how long the whole burst took to complete, and its rate.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.runtime_bench import deployment, publish, worker
from foundation.settings import Settings
from producers.webview.consumer import ReadModelConsumer
from producers.webview.read_model import ReadModel
from schemas.envelope import decode
from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Burst:
    tasks: int
    seconds: float  # from the first publish until the last completed row was readable
    readable_after_s: list[float]  # per completed task: row time -> applied by the read model

    def quantile(self, q: float) -> float:
        return statistics.quantiles(self.readable_after_s, n=1000, method="inclusive")[round(q * 1000) - 1]


@dataclass
class _Observed(ReadModel):
    """The read model, noting when each task's ``completed`` row was applied."""

    readable_after_s: list[float] = field(default_factory=list)

    def apply_status(self, value: bytes | None, *, key: bytes | None = None) -> None:
        super().apply_status(value, key=key)
        if value is not None and b'"completed"' in value:
            change = decode(value).data
            if isinstance(change, TaskStatusChanged) and change.status is TaskStatus.COMPLETED:
                self.readable_after_s.append(time.time() - change.at.timestamp())


async def _burst(settings: Settings, tasks: int, timeout: float) -> Burst:
    model = _Observed.from_settings(settings)
    consumer = ReadModelConsumer(settings, model)
    consumer.start()
    try:
        if not await consumer.caught_up(timeout_s=30):
            raise RuntimeError("the read model did not connect within 30 s")
        started = time.perf_counter()
        turns = [(f"s{n % 200}", "sleep:0") for n in range(tasks)]
        # From a loop of its own, as other replicas or clients would: the read model's loop
        # is the one being measured, not a publisher's.
        await asyncio.to_thread(asyncio.run, publish(settings, turns))
        deadline = time.monotonic() + timeout
        while (done := len(model.readable_after_s)) < tasks:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done} of {tasks} completed in {timeout:g} s")
            await asyncio.sleep(0.01)
        return Burst(tasks, time.perf_counter() - started, list(model.readable_after_s))
    finally:
        await consumer.stop()


def burst(bootstrap: str, data_dir: Path, port: int, tasks: int) -> Burst:
    settings = deployment(bootstrap, data_dir, port)
    with worker(settings, in_flight=100):
        return asyncio.run(_burst(settings, tasks, timeout=600))


def run(bootstrap: str, data_dir: Path, port: int, *, tasks: int, repeats: int, progress: Progress) -> str:
    """The report (Markdown): one row per run, and the medians."""
    bursts = []
    for n in range(repeats):
        progress(f"burst {n + 1}/{repeats}: {tasks:,} no-op tasks")
        bursts.append(burst(bootstrap, data_dir, port, tasks))
    lines = [
        f"### Completed status readable on the API, bursts of {tasks:,} no-op tasks",
        "",
        "| run | p50 ms | p99 ms | max ms | burst s | tasks/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = [
        (b.quantile(0.5) * 1000, b.quantile(0.99) * 1000, max(b.readable_after_s) * 1000, b.seconds)
        for b in bursts
    ]
    medians = tuple(statistics.median(column) for column in zip(*rows, strict=True))
    for label, (p50, p99, worst, seconds) in [*enumerate(rows, 1), ("median", medians)]:
        rate = tasks / seconds
        lines.append(f"| {label} | {p50:,.0f} | {p99:,.0f} | {worst:,.0f} | {seconds:.1f} | {rate:,.0f} |")
    return "\n".join(lines) + "\n"
