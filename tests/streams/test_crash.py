"""Crashes and rebalances: every accepted event ends once, none lost, none rerun."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

from compose.processes import free_ports
from foundation.settings import Settings
from schemas import task_id
from tests.streams.worker_support import APP, effects, folded, publish, wait_until, workers_env
from tests.support import running_worker

DONE = {"completed", "skipped"}


async def wait_all_done(settings: Settings, tids: set[str], timeout: float) -> dict[str, dict[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = await folded(settings)
        missing = {t for t in tids if statuses.get(t, {}).get("status") not in DONE}
        if not missing:
            return statuses
        assert time.monotonic() < deadline, f"{len(missing)} of {len(tids)} tasks never finished"
        await asyncio.sleep(0.5)


async def test_a_worker_killed_mid_stream_loses_nothing_and_reruns_nothing_completed(
    settings: Settings,
) -> None:
    sent = await publish(settings, [(f"s{n % 20}", f"n:{n}") for n in range(300)])
    tids = {task_id("recorder", e.id) for e, _ in sent}
    env = workers_env("recorder", concurrency=8)
    with running_worker(settings, app=APP, env=env) as first:
        wait_until(lambda: sum(1 for e in effects(settings) if e[0] == "end") >= 60, 60, "work under way")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
    before = await folded(settings)
    completed_before = {t for t, r in before.items() if r["status"] == "completed"}
    assert 0 < len(completed_before) < len(tids)
    with running_worker(settings, app=APP, env=env, name="restarted") as second:
        await wait_all_done(settings, tids, 90)
        rerun = {e[1] for e in effects(settings) if e[0] == "start" and e[2] == str(second.process.pid)}
    assert not rerun & completed_before
    ends = Counter(e[1] for e in effects(settings) if e[0] == "end")
    assert tids <= set(ends)


async def test_two_workers_share_partitions_and_rebalances_lose_nothing_and_run_nothing_twice(
    settings: Settings,
) -> None:
    env = workers_env("recorder", concurrency=4)
    other = settings.model_copy(update={"worker_web_port": free_ports(1)[0]})
    tids: set[str] = set()

    async def publish_some(start: int, count: int, seconds: float = 0.05) -> list[str]:
        sent = await publish(
            settings, [(f"s{n % 16}", f"n:{n} sleep:{seconds}") for n in range(start, start + count)]
        )
        new = [task_id("recorder", e.id) for e, _ in sent]
        tids.update(new)
        return new

    with running_worker(settings, app=APP, env=env, name="w1") as w1:
        await publish_some(0, 100)
        # Four tasks still running when the second worker
        # joins: the rebalance waits for them, or their partitions' next owner
        # runs them again.
        long = await publish_some(100, 4, seconds=10)
        wait_until(
            lambda: set(long) <= {e[1] for e in effects(settings) if e[0] == "start"},
            60,
            "the long tasks run",
        )
        with running_worker(other, app=APP, env=env, name="w2") as w2:
            await publish_some(104, 100)
            wait_until(
                lambda: any(e[2] == str(w2.process.pid) for e in effects(settings) if e[0] == "end"),
                60,
                "the second worker takes a share",
            )
            w1.stop()  # a graceful leave: its partitions move to w2
            await publish_some(204, 100)
            await wait_all_done(other, tids, 90)
    ends = Counter(e[1] for e in effects(settings) if e[0] == "end")
    starts = Counter(e[1] for e in effects(settings) if e[0] == "start")
    assert set(ends) == tids
    assert [t for t, n in starts.items() if n > 1] == []
    workers = {e[2] for e in effects(settings) if e[0] == "end"}
    assert workers == {str(w1.process.pid), str(w2.process.pid)}
