"""Prometheus metrics of the tasks a worker ran: ``/metrics/`` on the worker.

Counted where they happen (every status transition goes through
``Runtime.status``), exported under the names the Grafana dashboard in
``compose/grafana`` queries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from streams.metric_families import counter_family

# Handler durations: from a no-op to an LLM call that hits its timeout.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class TaskMetrics(Collector):
    def __init__(self) -> None:
        # (status, task type) -> transitions; (hit|miss, task type) -> cache lookups.
        self.transitions: Counter[tuple[str, str]] = Counter()
        self.cache: Counter[tuple[str, str]] = Counter()
        # work (a task type or an agent) -> times it was done again because a send failed.
        self.redone: Counter[str] = Counter()
        self.seconds = Histogram(
            "feynman_worker_task_seconds",
            "Handler run time per task type (successful runs)",
            ["task_type"],
            buckets=BUCKETS,
            registry=None,
        )

    def collect(self) -> Iterator[Metric]:
        yield counter_family(
            "feynman_worker_tasks",
            "Task status transitions recorded by this worker (retrying counts retries, dead dead letters)",
            ["task_type", "status"],
            {(task_type, status): n for (status, task_type), n in self.transitions.items()},
        )
        yield counter_family(
            "feynman_worker_result_cache",
            "Result cache lookups per task type",
            ["task_type", "result"],
            {(task_type, result): n for (result, task_type), n in self.cache.items()},
        )
        yield counter_family(
            "feynman_worker_redone",
            "Work done again in place: a record it wrote was not acknowledged, its input stayed unacked",
            ["work"],
            self.redone,
        )
        yield from self.seconds.collect()
