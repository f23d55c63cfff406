"""Replayed events in a real worker: new generations, reruns after a fix, duplicates skipped."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from aiokafka import AIOKafkaProducer

from foundation.settings import Settings
from schemas import task_id
from schemas.topics import Topics
from tests.streams.worker_support import (
    APP,
    committed_offsets,
    effects,
    publish,
    record,
    wait_until,
    workers_env,
)
from tests.support import child_env, read_topic, running_worker, wait_for


def replay(settings: Settings, *args: str) -> str:
    """Run ``feynman replay``; returns the replay id it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "feynman.cli", "replay", "--no-progress", *args],
        capture_output=True,
        text=True,
        env=child_env(settings),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[1].rstrip(":")


def in_generation(settings: Settings, tid: str, replay_id: str, status: str) -> dict[str, Any] | None:
    r = record(settings, tid)
    return r if r is not None and r.get("replay_id") == replay_id and r["status"] == status else None


def runs(settings: Settings, kind: str, tid: str) -> int:
    return sum(1 for e in effects(settings) if e[0] == kind and e[1] == tid)


async def test_a_dead_letter_replayed_after_its_cause_is_fixed_completes(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    broken = settings.data_dir / "broken"
    broken.touch()
    with running_worker(settings, app=APP, env=workers_env("gated")):
        [(envelope, _)] = await publish(settings, [("s-fix", "needs the dependency")])
        tid = task_id("gated", envelope.id)
        wait_until(lambda: (record(settings, tid) or {}).get("status") == "dead", 30, "the task dies")
        broken.unlink()  # the fix

        replay_id = replay(settings, "dead_letter", "--task-type", "gated", "--reason", "max_attempts")

        done = wait_until(lambda: in_generation(settings, tid, replay_id, "completed"), 30, "rerun completes")
    assert done["error"] is None
    assert done["result_ref"] == f"gated/{tid}"
    assert runs(settings, "gated", tid) == 2


async def test_a_completed_task_replayed_runs_again_as_a_new_generation_and_once_only(
    settings: Settings,
) -> None:
    topics = Topics.from_settings(settings)
    with running_worker(settings, app=APP, env=workers_env("flaky", "fast")):
        [(envelope, _)] = await publish(settings, [("s-gen", "fail:0")])
        flaky, fast = task_id("flaky", envelope.id), task_id("fast", envelope.id)
        first = wait_until(lambda: in_generation(settings, flaky, None, "completed"), 30, "first run")  # type: ignore[arg-type]
        wait_until(lambda: in_generation(settings, fast, None, "completed"), 30, "fast's first run")  # type: ignore[arg-type]

        replay_id = replay(settings, "conversations", "--tasks", "flaky")

        second = wait_until(lambda: in_generation(settings, flaky, replay_id, "completed"), 30, "rerun")
        assert second["completed_at"] > first["completed_at"]
        assert runs(settings, "run", flaky) == 2

        # The same replayed record delivered twice (a crash before its offset was committed).
        [copy] = await read_topic(settings.kafka_bootstrap, topics.replay.name, count=1)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            dup = await producer.send_and_wait(topics.replay.name, copy.value, key=copy.key)
        finally:
            await producer.stop()

        async def duplicate_handled() -> bool:
            # Skipped: nothing written (the row already says completed), its offset committed.
            committed = await committed_offsets(settings, topics.replay.name)
            return committed.get(dup.partition, -1) > dup.offset

        await wait_for(duplicate_handled, timeout=30)
        after = record(settings, flaky)
        fast_now = record(settings, fast)
    assert runs(settings, "run", flaky) == 2
    assert after is not None and (after["status"], after["replay_id"]) == ("completed", replay_id)
    assert after["completed_at"] == second["completed_at"]
    # --tasks flaky: the event's other task type was left as it was.
    assert runs(settings, "fast", fast) == 1
    assert fast_now is not None and fast_now["replay_id"] is None
