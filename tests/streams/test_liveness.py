"""Liveness: commit progress and lag per partition, the stall decision, ``/health/`` and ``/metrics/``.

The decision is tested with a fake clock; the Faust adapter with a stand-in
app (no broker); the whole against a real worker and broker.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from faust.types import TP

from domain.liveness import Liveness
from foundation.settings import Settings
from schemas import ChatTurn, encode, new_envelope
from schemas.topics import Topics
from streams.health import LivenessCollector, LivenessProbe, LivenessSensor, health_body, refresh_interval
from tests.support import running_worker, wait_for

S = 120.0
A0, A1, B0 = ("a", 0), ("a", 1), ("b", 0)


def lagging(now: float = 0.0, *, committed: int = 10, highwater: int = 15) -> Liveness:
    """One partition ``A0`` assigned at ``now``, ``highwater - committed`` records behind."""
    live = Liveness()
    live.assign([A0], now)
    live.observe_committed(A0, committed, now)
    live.observe_offsets(A0, now, highwater=highwater, earliest=0)
    return live


# -- the decision, with a fake clock -----------------------------------------------------------


def test_lag_without_commit_progress_stalls_only_after_the_stall_time() -> None:
    live = lagging()
    assert not live.stalled(S - 1, S)
    assert live.stalled(S, S)
    assert [p.partition for p in live.report(S, S).stalled_partitions] == [0]


def test_a_fresh_assignment_is_not_stalled_however_long_ago_the_last_commit_was() -> None:
    live = lagging(now=0.0)
    live.assign([A0, A1], 1000.0)  # A1 is new at t=1000
    live.observe_offsets(A1, 1000.0, highwater=7, earliest=0)
    assert live.stalled(1000.0, S)  # A0 has waited since t=0
    live.restart_clock(1000.0)  # a rebalance ended at t=1000: nobody was waiting on us
    assert not live.stalled(1000.0 + S - 1, S)
    assert live.stalled(1000.0 + S, S)


def test_commits_that_advance_keep_a_lagging_partition_alive() -> None:
    live = lagging()
    for t in range(100, 1000, 100):
        live.observe_offsets(A0, t, highwater=15 + t)  # new records keep arriving
        live.observe_commits({A0: 10 + t}, t)  # and the worker keeps up, a little behind
        assert not live.stalled(t + S - 1, S)
    assert live.stalled(900 + S, S)  # the last commit was at t=900


def test_a_commit_that_does_not_advance_is_not_progress() -> None:
    live = lagging()
    live.observe_commits({A0: 10}, 100.0)
    assert live.stalled(S, S)
    assert live.commits_total == 0


def test_without_lag_there_is_no_stall_however_long_nothing_is_committed() -> None:
    live = lagging(committed=15, highwater=15)
    assert not live.stalled(10 * S, S)
    assert live.report(10 * S, S).lag == 0


def test_an_idle_partition_that_receives_a_record_has_a_stall_time_from_then() -> None:
    live = lagging(committed=15, highwater=15)
    live.observe_commits({A0: 16}, 5.0)  # last commit at t=5, then an idle hour
    live.observe_offsets(A0, 3600.0, highwater=17)  # a record arrives (first seen at t=3600)
    assert not live.stalled(3600.0, S)
    assert not live.stalled(3600.0 + S - 1, S)
    assert live.stalled(3600.0 + S, S)
    live.observe_commits({A0: 17}, 3600.0 + S + 1)  # caught up: lag 0 again
    assert not live.stalled(3600.0 + 10 * S, S)


def test_one_stopped_partition_stalls_the_worker_while_another_commits() -> None:
    live = Liveness()
    live.assign([A0, B0], 0.0)
    for tp in (A0, B0):
        live.observe_committed(tp, 0, 0.0)
        live.observe_offsets(tp, 0.0, highwater=5, earliest=0)
    for t in range(10, 200, 10):
        live.observe_offsets(B0, t, highwater=5 + t)
        live.observe_commits({B0: t}, t)
    report = live.report(190.0, S)
    assert report.stalled
    assert [(p.topic, p.partition) for p in report.stalled_partitions] == [A0]
    assert report.seconds_since_last_commit == 0.0


def test_lag_counts_from_the_log_start_when_nothing_is_committed_or_records_expired() -> None:
    live = Liveness()
    live.assign([A0, A1, B0], 0.0)
    live.observe_offsets(A0, 0.0, highwater=100, earliest=40)  # never committed: from the log start
    live.observe_committed(A1, 10, 0.0)
    live.observe_offsets(A1, 0.0, highwater=100, earliest=90)  # committed below the log start
    live.observe_committed(B0, 3, 0.0)  # log end not read yet: lag unknown, never stalled
    lags = {(p.topic, p.partition): p.lag for p in live.report(0.0, S).partitions}
    assert lags == {A0: 60, A1: 10, B0: None}
    assert live.report(0.0, S).lag == 70
    assert not live.report(10 * S, S).partitions[2].stalled


def test_a_first_reading_of_the_committed_offset_is_a_baseline_and_later_ones_catch_up() -> None:
    live = lagging()
    report = live.report(50.0, S)
    assert report.seconds_since_last_commit is None
    assert report.seconds_without_commit == 50.0  # since assignment
    live.observe_committed(A0, 12, 50.0)  # a commit the hook missed
    report = live.report(60.0, S)
    assert report.seconds_since_last_commit == 10.0
    assert report.committed_records == {"a": 2}
    assert report.commits_total == 0  # counted as progress, not as a commit


def test_commits_count_once_per_commit_and_records_per_topic() -> None:
    live = Liveness()
    live.assign([A0, A1, B0], 0.0)
    for tp in (A0, A1, B0):
        live.observe_offsets(tp, 0.0, highwater=100, earliest=0)
    live.observe_commits({A0: 5, A1: 7, B0: 1}, 1.0)  # first commits ever count from the log start
    live.observe_commits({A0: 8}, 2.0)
    live.observe_commits({("unknown", 0): 8}, 3.0)  # not ours: ignored
    report = live.report(3.0, S)
    assert report.commits_total == 2
    assert report.committed_records == {"a": 15, "b": 1}
    assert [p.committed for p in report.partitions] == [8, 7, 1]


def test_a_first_commit_made_before_the_log_start_is_read_counts_once_it_is() -> None:
    live = Liveness()
    live.assign([A0], 0.0)
    live.observe_commits({A0: 6}, 1.0)  # the worker committed while the first reading was under way
    live.observe_commits({A0: 9}, 2.0)
    assert live.report(2.0, S).committed_records == {"a": 3}
    live.observe_offsets(A0, 3.0, highwater=9, earliest=2)  # two records had expired
    live.observe_offsets(A0, 4.0, highwater=9, earliest=2)
    assert live.report(4.0, S).committed_records == {"a": 7}


def test_revoked_partitions_are_forgotten() -> None:
    live = lagging()
    live.assign([A1], 10.0)
    assert list(live.partitions) == [A1]
    assert not live.stalled(10 * S, S)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_the_stall_time_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="stall_after_s"):
        Liveness().stalled(0.0, bad)


def test_the_refresh_interval_follows_the_stall_time_within_bounds() -> None:
    assert refresh_interval(120.0) == 10.0
    assert refresh_interval(30.0) == 3.0
    assert refresh_interval(1.0) == 0.5


# -- the Faust adapter, with a stand-in app ----------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeConsumer:
    """The parts of Faust's consumer the probe reads, and a log offsets reader that can hang."""

    def __init__(self, assignment: set[TP], highwaters: dict[TP, int]) -> None:
        self._assignment = assignment
        self._committed_offset: dict[TP, int | None] = {}
        self._highwaters = highwaters
        self.hang = False
        self.released = asyncio.Event()
        self.readings = 0

    def assignment(self) -> set[TP]:
        return self._assignment

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        self.readings += 1
        if self.hang:
            await self.released.wait()
        return {tp: self._highwaters[tp] for tp in tps}

    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        return dict.fromkeys(tps, 0)


def fake_app(consumer: FakeConsumer, acking: set[str], changelogs: frozenset[str] = frozenset()) -> Any:
    return SimpleNamespace(
        consumer=consumer,
        topics=SimpleNamespace(acks_enabled_for=lambda topic: topic in acking),
        tables=SimpleNamespace(changelog_topics=set(changelogs)),
        monitor=SimpleNamespace(tp_committed_offsets={}),
        rebalancing=False,
        in_recovery=False,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def probe(clock: FakeClock) -> LivenessProbe:
    """Assigned two partitions of the agent source ``src`` (``src[0]`` 3 behind) and a changelog."""
    src0, src1, changelog = TP("src", 0), TP("src", 1), TP("src-table-changelog", 0)
    consumer = FakeConsumer({src0, src1, changelog}, {src0: 5, src1: 0, changelog: 9})
    consumer._committed_offset = {src0: 2, src1: None}
    # The changelog is acked, as one passed to app.Table is: excluded as a changelog.
    app = fake_app(consumer, {"src", changelog.topic}, frozenset({changelog.topic}))
    return LivenessProbe(app, 30.0, offsets=consumer, clock=clock, offsets_timeout_s=0.2)


async def test_the_probe_tracks_agent_sources_not_changelogs_and_reads_log_offsets(
    probe: LivenessProbe,
) -> None:
    LivenessSensor(probe).on_rebalance_end(probe.app, {})
    await probe.refresh()
    report = probe.report()
    assert [(p.topic, p.partition, p.committed, p.highwater, p.lag) for p in report.partitions] == [
        ("src", 0, 2, 5, 3),
        ("src", 1, None, 0, 0),
    ]
    assert report.commits_total == 0 and probe.offsets_error is None


async def test_the_sensor_records_what_a_commit_changed(probe: LivenessProbe, clock: FakeClock) -> None:
    sensor = LivenessSensor(probe)
    sensor.on_rebalance_end(probe.app, {})
    await probe.refresh()
    clock.now = 20.0
    state = sensor.on_commit_initiated(probe.app.consumer)
    probe.app.consumer._committed_offset[TP("src", 0)] = 5
    sensor.on_commit_completed(probe.app.consumer, state)
    report = probe.report()
    assert report.commits_total == 1
    assert report.lag == 0
    assert report.partitions[0].seconds_since_last_commit == 0.0


async def test_health_is_ok_then_stalled_and_metrics_show_the_lag(
    probe: LivenessProbe, clock: FakeClock
) -> None:
    LivenessSensor(probe).on_rebalance_end(probe.app, {})
    await probe.refresh()
    body, status = health_body(probe.app, probe)
    assert (status, body["status"], body["lag"]) == (200, "ok", 3)
    clock.now = 30.0
    body, status = health_body(probe.app, probe)
    assert (status, body["status"]) == (503, "stalled")
    assert [(p["partition"], p["stalled"]) for p in body["partitions"]] == [(0, True), (1, False)]
    metrics = {m.name: m for m in LivenessCollector(probe).collect()}
    assert [(s.labels, s.value) for s in metrics["feynman_worker_lag"].samples] == [
        ({"topic": "src", "partition": "0"}, 3),
        ({"topic": "src", "partition": "1"}, 0),
    ]
    assert metrics["feynman_worker_seconds_since_commit"].samples[0].value == 30.0
    assert metrics["feynman_worker_stalled_partitions"].samples[0].value == 1


async def test_a_hanging_offsets_request_is_abandoned_and_reported(probe: LivenessProbe) -> None:
    LivenessSensor(probe).on_rebalance_end(probe.app, {})
    probe.app.consumer.hang = True
    await probe.refresh()
    assert "not read within" in (probe.offsets_error or "")
    assert probe.report().partitions[0].highwater is None
    body, status = health_body(probe.app, probe)
    assert status == 200 and body["offsets_error"]  # no log end known: no lag, so no stall


async def test_a_route_answers_from_the_last_reading_while_a_new_one_is_slow_and_gets_it_next(
    probe: LivenessProbe,
) -> None:
    LivenessSensor(probe).on_rebalance_end(probe.app, {})
    probe.offsets_timeout_s = 3600.0  # the broker answers late, not never
    probe.app.consumer.hang = True
    # Returns on its own: the wait_for is only there so a regression fails instead of hanging.
    await asyncio.wait_for(probe.refresh_within(0.01, max_age_s=0.0), 60)
    body, status = health_body(probe.app, probe)
    assert status == 200 and body["offsets_age_s"] is None and body["lag"] == 0  # nothing read yet
    await asyncio.wait_for(probe.refresh_within(0.01, max_age_s=0.0), 60)
    probe.app.consumer.released.set()

    async def read() -> bool:
        return probe.offsets_read_at is not None

    await wait_for(read, timeout=10, interval=0.01)
    body, _ = health_body(probe.app, probe)
    assert body["lag"] == 3 and probe.offsets_error is None
    assert probe.app.consumer.readings == 1  # the second call started no second reading


def test_a_failing_sensor_never_breaks_the_commit() -> None:
    app = fake_app(None, set())  # type: ignore[arg-type]
    app.monitor = None  # nothing to read committed offsets from
    broken = LivenessProbe(app, 30.0, offsets=FakeConsumer(set(), {}))
    sensor = LivenessSensor(broken)
    state = sensor.on_commit_initiated(None)
    sensor.on_commit_completed(None, state)
    sensor.on_rebalance_end(None, {})


# -- a real worker on the real broker ----------------------------------------------------------


async def test_the_worker_reports_its_commits_and_lag_and_exposes_them_as_metrics(settings: Settings) -> None:
    conversations = Topics.from_settings(settings).conversations.name
    sessions = [f"s-live-{i}" for i in range(6)]
    with running_worker(settings):
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for session in sessions:
                turn = ChatTurn(session_id=session, topic="tides", user_input="The Moon pulls the sea.")
                await producer.send_and_wait(conversations, encode(new_envelope(turn)), key=session.encode())
        finally:
            await producer.stop()

        async with httpx.AsyncClient(base_url=settings.worker_base_url, timeout=5.0) as client:

            async def caught_up() -> dict[str, Any] | None:
                r = await client.get("/health/")
                body = r.json()
                mine = [p for p in body["partitions"] if p["topic"] == conversations]
                done = (
                    r.status_code == 200
                    and len(mine) == settings.topic_partitions
                    and all(p["lag"] == 0 for p in mine)
                    and sum(p["highwater"] for p in mine) == len(sessions)
                    and sum(p["committed"] or 0 for p in mine) == len(sessions)
                )
                return body if done else None

            body = await wait_for(caught_up, timeout=60, interval=0.5)
            metrics = await client.get("/metrics/")

    assert body["status"] == "ok" and body["stall_after_s"] > 0
    assert body["seconds_since_last_commit"] is not None and body["offsets_error"] is None
    mine = [p for p in body["partitions"] if p["topic"] == conversations]
    assert all(p["seconds_since_last_commit"] is not None for p in mine if p["committed"])
    assert not any(p["stalled"] for p in body["partitions"])
    assert not any("changelog" in p["topic"] for p in body["partitions"])

    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    for partition in range(settings.topic_partitions):
        assert f'feynman_worker_lag{{partition="{partition}",topic="{conversations}"}} 0.0' in text
    assert "\nfeynman_worker_seconds_since_commit " in text
    assert "\nfeynman_worker_stalled_partitions 0.0" in text
    commits = [line for line in text.splitlines() if line.startswith("feynman_worker_commits_total ")]
    assert commits and float(commits[0].split()[1]) >= 1
    assert f'feynman_worker_committed_records_total{{topic="{conversations}"}}' in text
