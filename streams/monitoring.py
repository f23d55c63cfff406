"""The ``monitoring`` job: a periodic snapshot of this worker's pipeline health.

Every worker, every ``monitoring_interval_s``, publishes ``monitoring.snapshot``
(keyed by worker) with the lag of each input topic on the partitions it owns,
the pending events per task type, and its task outcome counters; ``/metrics/``
exports the same as gauges, among them ``langgraph_workflow_queue_size{task_type}``,
the name the seed service reserved for its queue size.

Pending events per task type = the lag of the input topics whose event types
route to that type (``TASK_ROUTES``): a record not yet committed is an event
whose tasks have not all finished. It over-counts a type while a record's other
types are still running, and leaves out retries waiting in retry tiers; per
worker, so Prometheus sums the workers (``sum by (task_type)``).

A timer rather than a task type: it has no input event to run per, and a
missed snapshot is simply replaced by the next one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from schemas.events import MonitoringSnapshot
from schemas.tasks import task_id
from streams.health import LivenessProbe
from streams.results import publish_result
from streams.runtime import Runtime
from streams.timers import guarded_timer

log = logging.getLogger(__name__)


class Monitor(Collector):
    """Builds snapshots from the liveness probe and the runtime; the latest one feeds ``/metrics/``."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.probe: LivenessProbe | None = None
        self.last: MonitoringSnapshot | None = None

    def snapshot(self) -> MonitoringSnapshot:
        lag: dict[str, int] = defaultdict(int)
        assigned = 0
        if self.probe is not None:
            for p in self.probe.report().partitions:
                assigned += 1
                lag[p.topic] += p.lag or 0
        queue: dict[str, int] = {name: 0 for name in self.rt.task_types}
        for name in queue:
            topics = {
                self.rt.topics.for_event_type(event_type).name
                for event_type, types in self.rt.routes.items()
                if name in types
            }
            queue[name] = sum(lag.get(topic, 0) for topic in topics)
        counts = {**self.rt.metrics.transitions, **self.rt.metrics.cache}
        counters = {f"{what}:{task_type}": n for (what, task_type), n in sorted(counts.items())}
        return MonitoringSnapshot(
            worker=self.rt.worker,
            at=datetime.now(UTC),
            lag_by_topic=dict(lag),
            queue_size_by_task_type=queue,
            counters=counters,
            assigned_partitions=assigned,
        )

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot()
        queue = GaugeMetricFamily(
            "langgraph_workflow_queue_size",
            "Events waiting for a task type on this worker (lag of the input topics routed to it)",
            labels=["task_type"],
        )
        for name, size in sorted(snapshot.queue_size_by_task_type.items()):
            queue.add_metric([name], size)
        yield queue
        lag = GaugeMetricFamily("feynman_topic_lag", "Lag per input topic on this worker", labels=["topic"])
        for topic, size in sorted(snapshot.lag_by_topic.items()):
            lag.add_metric([topic], size)
        yield lag


def install(rt: Runtime, monitor: Monitor, probe: LivenessProbe) -> None:
    monitor.probe = probe

    @guarded_timer(rt.app, rt.settings.monitoring_interval_s, name="monitoring_snapshot")
    async def publish_snapshot() -> None:
        # A reading of its own: the counters are live, and lag read up to a second before them
        # could predate the events they count and show a queue drained that is not.
        await probe.refresh()
        snapshot = monitor.snapshot()
        monitor.last = snapshot
        event_id = task_id("monitoring.snapshot", f"{rt.worker}/{snapshot.at.isoformat()}")
        try:
            await publish_result(rt, rt.topics.monitoring, snapshot, event_id=event_id)
        except Exception:
            log.exception("monitoring snapshot not published")
