"""One measured figure, and the medians over repeats the report shows."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Figure:
    workload: str  # "throughput", "latency", "llm", "crash", "restart"
    system: str
    metric: str  # e.g. "tasks/s", "p99 ms"
    value: float
    param: str = ""  # e.g. the offered rate or the concurrency
    repeat: int = 0


def medians(figures: list[Figure]) -> dict[tuple[str, str, str, str], float]:
    """(workload, param, metric, system) -> median over repeats."""
    groups: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    for f in figures:
        groups[(f.workload, f.param, f.metric, f.system)].append(f.value)
    return {k: statistics.median(v) for k, v in groups.items()}
