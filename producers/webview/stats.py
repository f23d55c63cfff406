"""Latency percentiles and throughput per task type over the last minutes.

Fed one :class:`Finish` per task reaching a terminal status, in event time
(the status events' ``at``), so numbers read the same whether the view saw the
events live or caught up on them after a restart. Latency is from the task's
creation (its ``queued`` status, when the API published the event) to its
terminal status: the wait a user notices, queueing included. Only the last
``capacity`` finishes are kept, which bounds both memory and the work of a
query.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

PERCENTILES = (50, 95, 99)


@dataclass(frozen=True, slots=True)
class Finish:
    task_type: str
    status: str
    at: datetime
    latency_s: float


@dataclass(frozen=True, slots=True)
class Latency:
    count: int
    # Percentile (50, 95, 99) → seconds.
    percentiles: dict[int, float]


@dataclass(frozen=True, slots=True)
class Throughput:
    # The start of each minute, oldest first; the last one is the minute under way.
    minutes: list[datetime]
    # Task type → tasks finished in each of those minutes.
    per_type: dict[str, list[int]]


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile: a value that really occurred, never an interpolation."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class FinishLog:
    """The last ``capacity`` task finishes, and the statistics over a recent window."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._finishes: deque[Finish] = deque(maxlen=capacity)

    def add(self, finish: Finish) -> None:
        self._finishes.append(finish)

    def _since(self, start: datetime) -> list[Finish]:
        return [f for f in self._finishes if f.at >= start]

    def latency(self, now: datetime, window: timedelta) -> dict[str, Latency]:
        """Per task type, latency percentiles of the tasks finished within ``window`` before ``now``."""
        by_type: dict[str, list[float]] = defaultdict(list)
        for f in self._since(now - window):
            by_type[f.task_type].append(f.latency_s)
        out = {}
        for task_type, values in sorted(by_type.items()):
            values.sort()
            out[task_type] = Latency(len(values), {p: percentile(values, p) for p in PERCENTILES})
        return out

    def throughput(self, now: datetime, minutes: int) -> Throughput:
        """Tasks finished per minute and type, for the ``minutes`` minutes up to ``now``."""
        current = now.replace(second=0, microsecond=0)
        starts = [current - timedelta(minutes=minutes - 1 - i) for i in range(minutes)]
        per_type: dict[str, list[int]] = defaultdict(lambda: [0] * minutes)
        for f in self._since(starts[0]):
            slot = int((f.at - starts[0]).total_seconds() // 60)
            if 0 <= slot < minutes:
                per_type[f.task_type][slot] += 1
        return Throughput(starts, dict(sorted(per_type.items())))
