"""The read model as Prometheus gauges on the API's ``/metrics``.

Gauges of state only (tasks held per type and status, dead letters on the
topic per reason, records not read yet), built at scrape time. Rates and
latency histograms of task processing are the worker's to export, where the
work happens; counting them here too would double them in every sum.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from producers.webview.read_model import ReadModel


class ReadModelCollector(Collector):
    def __init__(self, model: ReadModel) -> None:
        self.model = model

    def collect(self) -> Iterator[Metric]:
        tasks = GaugeMetricFamily(
            "feynman_view_tasks",
            "Tasks the web view's read model holds, by task type and status",
            labels=["task_type", "status"],
        )
        for (task_type, status), n in sorted(self.model.tasks.counts().items()):
            tasks.add_metric([task_type, status], n)
        yield tasks
        letters = GaugeMetricFamily(
            "feynman_view_dead_letters",
            "Dead letters read from the dead-letter topic since this API started, by reason",
            labels=["reason"],
        )
        for reason, n in sorted(self.model.dead_letters.reasons.items()):
            letters.add_metric([reason], n)
        yield letters
        behind = self.model.progress.behind
        yield GaugeMetricFamily(
            "feynman_view_records_behind",
            "Records of the task-status and dead-letter topics the view has not read yet (-1: unknown)",
            value=-1 if behind is None else behind,
        )
        yield CounterMetricFamily(
            "feynman_view_tasks_evicted",
            "Tasks dropped from the view's read model to keep it within FEYNMAN_UI_MAX_TASKS",
            value=self.model.tasks.evicted,
        )
