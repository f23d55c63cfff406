"""Many tasks in flight on a real worker: order, commits, lanes, and the result cache."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable

import httpx

from foundation.settings import Settings
from schemas import task_id
from schemas.topics import Topics
from tests.streams.worker_support import (
    APP,
    committed_offsets,
    effects,
    folded,
    publish,
    wait_until,
    workers_env,
)
from tests.support import running_worker


def ended(settings: Settings, kind: str = "end") -> dict[str, list[str]]:
    return {e[1]: e for e in effects(settings) if e[0] == kind}


async def test_many_tasks_in_flight_keep_each_sessions_order(settings: Settings) -> None:
    sessions, per_session = 8, 6
    texts = [
        (f"s{s}", f"n:{n} sleep:0.{(s * 7 + n * 3) % 4 + 1}")
        for n in range(per_session)
        for s in range(sessions)
    ]
    with running_worker(settings, app=APP, env=workers_env("recorder", concurrency=16)):
        sent = await publish(settings, texts)
        wait_until(lambda: len(ended(settings)) == len(sent), 60, "every task ends")
    runs: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    starts = {e[1]: e for e in effects(settings) if e[0] == "start"}
    for tid, end in ended(settings).items():
        start = starts[tid]
        runs[start[3]].append((float(start[5]), float(end[5]), int(start[4])))
    for session, spans in runs.items():
        spans.sort()
        assert [seq for _, _, seq in spans] == list(range(per_session)), session
        assert all(a_end <= b_start for (_, a_end, _), (b_start, _, _) in itertools.pairwise(spans)), session
    # Sessions overlapped: the worker really ran many tasks at once.
    points = sorted((t, d) for spans in runs.values() for s, e, _ in spans for t, d in ((s, 1), (e, -1)))
    in_flight = peak = 0
    for _, delta in points:
        in_flight += delta
        peak = max(peak, in_flight)
    assert peak >= 4


async def test_offsets_are_never_committed_past_a_task_still_in_flight(
    settings_factory: Callable[..., Settings],
) -> None:
    from kafka_io.topic_admin import ensure_topics

    settings = settings_factory(topic_partitions=1)
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    topic = Topics.from_settings(settings).conversations.name
    with running_worker(settings, app=APP, env=workers_env("recorder", concurrency=8)):
        [(slow, slow_md)] = await publish(settings, [("slow", "n:0 sleep:6")])
        wait_until(
            lambda: task_id("recorder", slow.id) in {e[1] for e in effects(settings)}, 20, "slow starts"
        )
        quick = await publish(settings, [(f"q{n}", "n:0 sleep:0") for n in range(10)])
        wait_until(
            lambda: {task_id("recorder", e.id) for e, _ in quick} <= set(ended(settings)),
            20,
            "quick ones end",
        )
        # Several commit intervals pass while the slow task runs.
        time.sleep(4)
        assert task_id("recorder", slow.id) not in ended(settings)
        assert (await committed_offsets(settings, topic)).get(0, 0) <= slow_md.offset
        wait_until(lambda: task_id("recorder", slow.id) in ended(settings), 20, "slow ends")
        last = quick[-1][1].offset
        deadline = time.monotonic() + 20
        while (await committed_offsets(settings, topic)).get(0, 0) != last + 1:
            assert time.monotonic() < deadline, "the commit catches up once the slow task finished"
            time.sleep(0.3)


async def test_a_slow_task_type_does_not_delay_a_fast_one(settings: Settings) -> None:
    with running_worker(settings, app=APP, env=workers_env("slow", "fast")):
        sent = await publish(settings, [(f"s{n}", "sleep:1.5") for n in range(12)])
        fast_ids = {task_id("fast", e.id) for e, _ in sent}
        slow_ids = [task_id("slow", e.id) for e, _ in sent]
        wait_until(lambda: fast_ids <= set(ended(settings, "fast")), 30, "every fast task ends")
        statuses = await folded(settings)
    # The slow type, two at a time at 1.5 s each, needs about 9 s for all twelve.
    slow_done = sum(1 for tid in slow_ids if statuses.get(tid, {}).get("status") == "completed")
    assert slow_done <= 6


async def test_a_replay_backlog_leaves_live_events_their_slots(settings: Settings) -> None:
    replay = Topics.from_settings(settings).replay.name
    with running_worker(settings, app=APP, env=workers_env("recorder", concurrency=4)):
        backlog = await publish(settings, [(f"r{n}", "n:0 sleep:1") for n in range(30)], topic=replay)
        wait_until(lambda: ended(settings, "start"), 20, "the replay starts")
        live = await publish(settings, [(f"l{n}", "n:0 sleep:0.1") for n in range(6)])
        live_ids = {task_id("recorder", e.id) for e, _ in live}
        wait_until(lambda: live_ids <= set(ended(settings)), 20, "live tasks end")
        replayed_done = {task_id("recorder", e.id) for e, _ in backlog} & set(ended(settings))
    # One slot of four goes to the replay lane: about one replayed task per second.
    assert len(replayed_done) < 10


async def test_identical_inputs_reuse_the_first_result(settings: Settings) -> None:
    with running_worker(settings, app=APP, env=workers_env("cached")):
        first = await publish(settings, [("a", "the same explanation")])
        tid_a = task_id("cached", first[0][0].id)
        wait_until(lambda: tid_a in ended(settings, "computed"), 20, "the first one runs")
        second = await publish(settings, [("b", "the same explanation"), ("c", "another one")])
        tids = [task_id("cached", e.id) for e, _ in second]

        async def done() -> dict[str, dict[str, str]]:
            statuses = await folded(settings)
            return statuses if all(statuses.get(t, {}).get("status") == "completed" for t in tids) else {}

        deadline = time.monotonic() + 20
        while not (statuses := await done()):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        metrics = httpx.get(f"{settings.worker_base_url}/metrics/", timeout=5).text
    assert 'feynman_worker_result_cache_total{result="hit",task_type="cached"} 1.0' in metrics
    assert 'feynman_worker_result_cache_total{result="miss",task_type="cached"} 2.0' in metrics
    assert 'feynman_worker_tasks_total{status="completed",task_type="cached"} 3.0' in metrics
    assert 'feynman_worker_task_seconds_count{task_type="cached"} 2.0' in metrics
    computed = [e[1] for e in effects(settings) if e[0] == "computed"]
    assert computed == [tid_a, tids[1]]
    assert statuses[tids[0]]["result_ref"] == f"result-of/{tid_a}"
