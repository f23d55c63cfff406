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


Key = tuple[str, str, str, str]  # (workload, param, metric, system)


def _groups(figures: list[Figure]) -> dict[Key, list[float]]:
    groups: dict[Key, list[float]] = defaultdict(list)
    for f in figures:
        groups[(f.workload, f.param, f.metric, f.system)].append(f.value)
    return groups


def medians(figures: list[Figure]) -> dict[Key, float]:
    """(workload, param, metric, system) -> median over repeats."""
    return {k: statistics.median(v) for k, v in _groups(figures).items()}


def spreads(figures: list[Figure]) -> dict[Key, tuple[float, float]]:
    """(workload, param, metric, system) -> lowest and highest value over repeats."""
    return {k: (min(v), max(v)) for k, v in _groups(figures).items()}
