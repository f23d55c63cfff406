"""``GET /health/`` and ``GET /metrics/`` on the worker: ready, making progress, how far behind.

Tests, ``feynman dev`` and container healthchecks wait on ``/health/`` instead
of guessing from log lines. It answers 503 ``starting`` until partitions are
assigned and recovery is done, 503 ``stalled`` when some partition has lag but
its committed offset has not moved for ``worker_stall_after_s`` seconds (a
worker that silently stopped consuming, see :mod:`domain.liveness`), 200
``ok`` otherwise; the body shows lag, committed offset and log end offset per
partition. ``/metrics/`` shows the same as Prometheus gauges and counters.

Where the numbers come from (faust-streaming 0.15.3):

- commits: a :class:`faust.Sensor` registered with ``app.sensors.add``; Faust
  calls ``on_commit_initiated``/``on_commit_completed`` around every commit
  (``Consumer.force_commit``). The offsets themselves are read from the
  consumer's ``_committed_offset`` map, which Faust updates on each commit and
  seeds from the broker's committed offsets at assignment. It is private, hence
  the fallback to the public ``app.monitor.tp_committed_offsets`` (filled by
  ``Monitor.on_tp_commit``, which Faust calls on the monitor only, not on sensors).
- assignment: the sensor's ``on_rebalance_end``, called when a rebalance and
  its table recovery are done; only topics whose events are acked (so
  committed) and that are no table's changelog count: agent sources, not
  changelogs or the leader topic.
- log start and end: a ListOffsets request to the broker, not the fetcher's
  last-seen high watermark, which stops moving exactly when the fetcher stops;
  sent by :class:`~streams.log_offsets.LogOffsetsReader` on connections of its
  own, where it does not queue behind the app consumer's long polls.

A timer refreshes the log offsets every few seconds, so a stall is noticed
however rarely the route is polled; the routes refresh too when the last
reading is older than a second, but wait for it only briefly: a probe gets its
answer in its budget, from the last reading if the broker is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import faust
import mode
from faust.exceptions import ConsumerNotStarted
from faust.types import TP
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import SecretStr

from domain.liveness import Liveness, LivenessReport, TopicPartition
from foundation.settings import get_settings
from streams.log_offsets import LogOffsets, LogOffsetsReader
from streams.timers import guarded_timer, timer_errors
from streams.web_auth import guarded_page

log = logging.getLogger(__name__)

DEFAULT_STALL_AFTER_S = 120.0
# A broker request for log offsets that takes longer is abandoned; the last readings stay.
OFFSETS_TIMEOUT_S = 3.0
# The routes reuse a reading younger than this, so a tight polling loop costs no broker requests.
ROUTE_MAX_AGE_S = 1.0
# How long a route waits for a new reading before it answers from the last one
# (a Kubernetes probe's default timeout is 1 s; the API's readiness check allows 2 s).
ROUTE_WAIT_S = 0.5


def stall_after_s_from_settings() -> float:
    """``worker_stall_after_s`` from the environment's settings (120 s until the setting exists)."""
    return float(getattr(get_settings(), "worker_stall_after_s", DEFAULT_STALL_AFTER_S))


def refresh_interval(stall_after_s: float) -> float:
    """How often the timer reads log offsets: often enough to date the start of lag within a tenth
    of the stall time, never more than every half second nor less than every ten."""
    return min(10.0, max(0.5, stall_after_s / 10))


def _tp(tp: Any) -> TopicPartition:
    return (str(tp.topic), int(tp.partition))


class LivenessProbe:
    """Feeds a :class:`~domain.liveness.Liveness` from the Faust app; shared by sensor, timer and routes."""

    def __init__(
        self,
        app: faust.App,
        stall_after_s: float,
        *,
        offsets: LogOffsets,
        clock: Callable[[], float] = time.monotonic,
        offsets_timeout_s: float = OFFSETS_TIMEOUT_S,
    ) -> None:
        if not stall_after_s > 0:
            raise ValueError(f"stall_after_s must be positive, not {stall_after_s!r}")
        self.app = app
        self.offsets = offsets
        self.stall_after_s = stall_after_s
        self.clock = clock
        self.offsets_timeout_s = offsets_timeout_s
        self.liveness = Liveness()
        # When log offsets were last read successfully, and why the last attempt failed, if it did.
        self.offsets_read_at: float | None = None
        self.offsets_error: str | None = None
        self._refreshed_at: float | None = None
        self._refreshing = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

    # -- what the app holds ----------------------------------------------------------------------

    def assigned(self) -> set[TopicPartition]:
        """Assigned partitions whose events are acked, so committed: agent sources only.

        Changelog partitions (active or standby) are read by table recovery and
        never committed; counting them would show lag that is not work waiting.
        A changelog topic passed to ``app.Table`` (as ``Runtime.table`` does)
        keeps the default ``acks=True``, so changelogs are excluded by name too.
        """
        try:
            assignment = self.app.consumer.assignment()
        except ConsumerNotStarted:
            return set()
        topics = self.app.topics
        changelogs = self.app.tables.changelog_topics
        return {
            _tp(tp) for tp in assignment if topics.acks_enabled_for(tp.topic) and tp.topic not in changelogs
        }

    def committed_offsets(self) -> dict[TopicPartition, int]:
        """The consumer's committed offsets (next offset to read) of the tracked partitions."""
        offsets: Mapping[Any, int | None] | None = getattr(self.app.consumer, "_committed_offset", None)
        if offsets is None:  # not in this Faust version: the monitor's view of the commits
            offsets = self.app.monitor.tp_committed_offsets
        tracked = self.liveness.partitions
        out: dict[TopicPartition, int] = {}
        for tp, offset in list(offsets.items()):
            key = _tp(tp)
            if offset is not None and key in tracked:
                out[key] = int(offset)
        return out

    # -- fed by the sensor (synchronous, on the app's event loop) --------------------------------

    def on_commit(self, before: Mapping[TopicPartition, int]) -> None:
        """A commit finished: the offsets that changed since ``before`` are what it committed."""
        after = self.committed_offsets()
        changed = {tp: offset for tp, offset in after.items() if before.get(tp) != offset}
        if changed:
            self.liveness.observe_commits(changed, self.clock())

    def on_assigned(self) -> None:
        """A rebalance (and its recovery) ended: new partitions, and the stall clocks restart."""
        now = self.clock()
        self.liveness.assign(self.assigned(), now)
        self.liveness.restart_clock(now)
        for tp, offset in self.committed_offsets().items():
            self.liveness.observe_committed(tp, offset, now)

    # -- polled ----------------------------------------------------------------------------------

    async def refresh(self, max_age_s: float = 0.0) -> None:
        """Read assignment, committed offsets and log offsets; never raises.

        Skipped when a reading younger than ``max_age_s`` exists or another
        refresh is under way (a route then answers from the last reading
        rather than queue behind it).
        """
        now = self.clock()
        if self._refreshing.locked():
            return
        if self._refreshed_at is not None and now - self._refreshed_at < max_age_s:
            return
        async with self._refreshing:
            try:
                await self._refresh(now)
            except Exception as exc:  # noqa: BLE001 - a failed reading must not take the worker down
                self.offsets_error = repr(exc)
                log.warning("liveness refresh failed: %r", exc)
            finally:
                self._refreshed_at = now

    async def refresh_within(self, wait_s: float, max_age_s: float) -> None:
        """:meth:`refresh`, waited for at most ``wait_s``; a refresh still under way then carries on
        for the next caller, and this one reads the last reading."""
        task = asyncio.ensure_future(self.refresh(max_age_s))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), wait_s)

    async def _refresh(self, now: float) -> None:
        self.liveness.assign(self.assigned(), now)
        for tp, offset in self.committed_offsets().items():
            self.liveness.observe_committed(tp, offset, now)
        tps = [TP(topic, partition) for topic, partition in self.liveness.partitions]
        if not tps or self.app.rebalancing:
            return
        try:
            earliest, highwaters = await asyncio.wait_for(
                asyncio.gather(self.offsets.earliest_offsets(*tps), self.offsets.highwaters(*tps)),
                self.offsets_timeout_s,
            )
        except TimeoutError:
            self.offsets_error = f"log offsets not read within {self.offsets_timeout_s}s"
            log.warning("liveness: %s", self.offsets_error)
            return
        # Keyed by aiokafka's TopicPartition: compare as plain (topic, partition).
        high = {_tp(tp): offset for tp, offset in highwaters.items()}
        low = {_tp(tp): offset for tp, offset in earliest.items()}
        now = self.clock()
        for tp in self.liveness.partitions:
            self.liveness.observe_offsets(tp, now, highwater=high.get(tp), earliest=low.get(tp))
        self.offsets_read_at = now
        self.offsets_error = None

    def report(self) -> LivenessReport:
        return self.liveness.report(self.clock(), self.stall_after_s)


class LivenessSensor(faust.Sensor):
    """Tells the probe about commits and rebalances; never lets an error reach Faust's commit path."""

    def __init__(self, probe: LivenessProbe, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.probe = probe

    def on_commit_initiated(self, consumer: Any) -> Any:
        try:
            return self.probe.committed_offsets()
        except Exception:  # a sensor must not break a commit
            log.exception("liveness: reading committed offsets failed")
            return {}

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        try:
            self.probe.on_commit(state or {})
        except Exception:  # a sensor must not break a commit
            log.exception("liveness: recording a commit failed")

    def on_rebalance_end(self, app: Any, state: dict[str, Any]) -> None:
        try:
            self.probe.on_assigned()
        except Exception:  # a sensor must not break a rebalance
            log.exception("liveness: recording an assignment failed")


class LivenessCollector(Collector):
    """The probe's last reading as Prometheus metrics, built at scrape time (no stale partitions)."""

    def __init__(self, probe: LivenessProbe) -> None:
        self.probe = probe

    def collect(self) -> Iterator[Metric]:
        report = self.probe.report()
        labels = ["topic", "partition"]
        lag = GaugeMetricFamily(
            "feynman_worker_lag", "Records after the committed offset, per assigned partition", labels=labels
        )
        committed = GaugeMetricFamily(
            "feynman_worker_committed_offset", "Committed offset per assigned partition", labels=labels
        )
        highwater = GaugeMetricFamily(
            "feynman_worker_highwater", "Log end offset per assigned partition", labels=labels
        )
        for p in report.partitions:
            values = [p.topic, str(p.partition)]
            if p.lag is not None:
                lag.add_metric(values, p.lag)
            if p.committed is not None:
                committed.add_metric(values, p.committed)
            if p.highwater is not None:
                highwater.add_metric(values, p.highwater)
        yield lag
        yield committed
        yield highwater
        since = report.seconds_without_commit
        yield GaugeMetricFamily(
            "feynman_worker_seconds_since_commit",
            "Seconds since a committed offset last advanced (or since assignment, if none has)",
            value=since if since is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "feynman_worker_stalled_partitions",
            "Partitions with lag whose committed offset has not advanced for the stall time",
            value=len(report.stalled_partitions),
        )
        yield GaugeMetricFamily(
            "feynman_worker_stall_after_seconds",
            "The stall time (worker_stall_after_s)",
            value=report.stall_after_s,
        )
        yield CounterMetricFamily(
            "feynman_worker_commits", "Offset commits that advanced a partition", value=report.commits_total
        )
        records = CounterMetricFamily(
            "feynman_worker_committed_records", "Records committed past, by topic", labels=["topic"]
        )
        for topic, count in sorted(report.committed_records.items()):
            records.add_metric([topic], count)
        yield records


def health_body(app: faust.App, probe: LivenessProbe) -> tuple[dict[str, Any], int]:
    """The ``/health/`` body and status code."""
    try:
        assigned = len(app.consumer.assignment())
    except ConsumerNotStarted:
        assigned = 0
    ready = assigned > 0 and not app.rebalancing and not app.in_recovery
    report = probe.report()
    if not ready:
        status = "starting"
    elif report.stalled:
        status = "stalled"
    else:
        status = "ok"
    now = probe.clock()
    body = {
        "status": status,
        "assigned_partitions": assigned,
        "rebalancing": bool(app.rebalancing),
        "recovering": bool(app.in_recovery),
        "lag": report.lag,
        "seconds_since_last_commit": _round(report.seconds_since_last_commit),
        "stall_after_s": report.stall_after_s,
        "offsets_age_s": _round(None if probe.offsets_read_at is None else now - probe.offsets_read_at),
        "offsets_error": probe.offsets_error,
        "partitions": [
            {
                "topic": p.topic,
                "partition": p.partition,
                "committed": p.committed,
                "highwater": p.highwater,
                "lag": p.lag,
                "seconds_since_last_commit": _round(p.seconds_since_last_commit),
                "stalled": p.stalled,
            }
            for p in report.partitions
        ],
    }
    return body, 200 if status == "ok" else 503


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def install(
    app: faust.App,
    *,
    stall_after_s: float | None = None,
    collectors: Sequence[Collector] = (),
    key: SecretStr | None = None,
) -> LivenessProbe:
    """Register the liveness sensor and timer and the ``/health/`` and ``/metrics/`` routes.

    ``stall_after_s`` defaults to the ``worker_stall_after_s`` setting; ``collectors``
    add metrics of other modules (e.g. monitoring) to ``/metrics/``, which always
    shows the error counts of the app's guarded timers (:mod:`streams.timers`) and
    wants ``key`` when one is given (``/health/`` never does).
    """
    reader = LogOffsetsReader(app)
    probe = LivenessProbe(
        app, stall_after_s if stall_after_s is not None else stall_after_s_from_settings(), offsets=reader
    )

    @app.service
    class CloseLogOffsetsReader(mode.Service):
        """Closes the reader's connections when the worker stops."""

        async def on_stop(self) -> None:
            await reader.close()

    app.sensors.add(LivenessSensor(probe))
    registry = CollectorRegistry()
    registry.register(LivenessCollector(probe))
    registry.register(timer_errors(app))
    for collector in collectors:
        registry.register(collector)

    @guarded_timer(app, refresh_interval(probe.stall_after_s), name="liveness_refresh")
    async def refresh_liveness() -> None:
        await probe.refresh()

    @app.page("/health/")
    async def health(web: View, request: Request) -> Response:
        await probe.refresh_within(ROUTE_WAIT_S, max_age_s=ROUTE_MAX_AGE_S)
        body, status = health_body(app, probe)
        return web.json(body, status=status)

    @guarded_page(app, "/metrics/", key)
    async def metrics(web: View, request: Request) -> Response:
        await probe.refresh_within(ROUTE_WAIT_S, max_age_s=ROUTE_MAX_AGE_S)
        return web.bytes(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return probe
