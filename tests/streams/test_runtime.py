"""The task runtime against a real broker and real worker processes."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from schemas import decode, encode, new_envelope, task_id
from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus
from schemas.topics import Topics
from tests.streams.worker_support import (
    APP,
    committed_offsets,
    effects,
    publish,
    record,
    redeliver,
    terminal,
    wait_until,
    workers_env,
)
from tests.support import read_topic, running_worker, tombstoned, wait_for


async def test_a_failing_task_is_retried_without_blocking_and_then_completes(settings: Settings) -> None:
    with running_worker(settings, app=APP, env=workers_env("flaky")):
        [(envelope, _)] = await publish(settings, [("s1", "fail:2")])
        tid = task_id("flaky", envelope.id)
        records = wait_until(lambda: terminal(settings, [tid]), 30, "the flaky task ends")
    assert records[tid]["status"] == "completed"
    assert records[tid]["retry_count"] == 2
    assert [e[2] for e in effects(settings) if e[1] == tid] == ["0", "1", "2"]
    retries = await read_topic(
        settings.kafka_bootstrap, Topics.from_settings(settings).retry_tiers[0].name, count=2
    )
    assert [decode(r.value).data.attempt for r in retries] == [1, 2]
    assert all(r.key == b"s1" for r in retries)


async def test_a_task_failing_every_attempt_is_dead_lettered_with_every_field(settings: Settings) -> None:
    with running_worker(settings, app=APP, env=workers_env("flaky")):
        [(envelope, md)] = await publish(settings, [("s-dead", "fail:9")])
        tid = task_id("flaky", envelope.id)
        records = wait_until(lambda: terminal(settings, [tid]), 30, "the flaky task ends")
    assert records[tid]["status"] == "dead"
    assert records[tid]["retry_count"] == 2
    assert "flaky failure on attempt 2" in records[tid]["error"]
    [letter_record] = await read_topic(
        settings.kafka_bootstrap, Topics.from_settings(settings).dead_letter.name, count=1
    )
    letter = decode(letter_record.value).data
    assert letter_record.key == b"s-dead"
    assert letter.reason == "max_attempts"
    assert letter.error == "RuntimeError('flaky failure on attempt 2')"
    assert "Traceback" in letter.traceback and "in flaky" in letter.traceback
    assert letter.attempts == 3
    assert (letter.origin_topic, letter.origin_partition, letter.origin_offset) == (
        md.topic,
        md.partition,
        md.offset,
    )
    assert base64.b64decode(letter.original_b64) == encode(envelope)
    assert letter.original_key == "s-dead"
    assert (letter.event_id, letter.event_type) == (envelope.id, "chat.turn")
    assert (letter.task_type, letter.task_id) == ("flaky", tid)


async def test_a_task_over_its_timeout_is_dead_lettered_as_a_timeout(settings: Settings) -> None:
    with running_worker(settings, app=APP, env=workers_env("timeout")):
        [(envelope, _)] = await publish(settings, [("s-t", "sleep:5")])
        tid = task_id("timeout", envelope.id)
        records = wait_until(lambda: terminal(settings, [tid]), 30, "the task times out")
    assert records[tid]["status"] == "dead"
    assert records[tid]["error"] == "timed out after 0.5 s"
    [letter] = await read_topic(
        settings.kafka_bootstrap, Topics.from_settings(settings).dead_letter.name, count=1
    )
    assert decode(letter.value).data.reason == "timeout"


async def test_task_statuses_and_tables_survive_a_worker_restart(settings: Settings) -> None:
    # Faust restores a table through its changelog topic's serializers; rows written
    # with other ones (JSON keys) would come back under keys no lookup finds.
    [(envelope, _)] = await publish(settings, [("s-restart", "fail:0")])
    tid = task_id("flaky", envelope.id)
    with running_worker(settings, app=APP, env=workers_env("flaky")):
        wait_until(lambda: terminal(settings, [tid]), 30, "the task completes")
    with running_worker(settings, app=APP, env=workers_env("flaky")):
        restored = record(settings, tid)
    assert restored is not None and restored["status"] == "completed"
    assert [e for e in effects(settings) if e[1] == tid] == [["run", tid, "0"]]


async def test_a_permanent_failure_is_dead_lettered_without_retries(settings: Settings) -> None:
    with running_worker(settings, app=APP, env=workers_env("flaky")):
        [(envelope, _)] = await publish(settings, [("s-p", "permanent")])
        tid = task_id("flaky", envelope.id)
        records = wait_until(lambda: terminal(settings, [tid]), 30, "the task ends")
    assert records[tid]["status"] == "dead"
    assert [e[2] for e in effects(settings) if e[1] == tid] == ["0"]
    [letter] = await read_topic(
        settings.kafka_bootstrap, Topics.from_settings(settings).dead_letter.name, count=1
    )
    assert (decode(letter.value).data.reason, decode(letter.value).data.attempts) == ("permanent", 1)


async def test_finished_statuses_expire_after_their_retention(settings_factory: Any) -> None:
    settings = settings_factory(status_retention_s=2, table_expiry_interval_s=0.5)
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    with running_worker(settings, app=APP, env=workers_env("flaky")):
        [(envelope, _)] = await publish(settings, [("s-x", "fail:0")])
        tid = task_id("flaky", envelope.id)
        wait_until(lambda: terminal(settings, [tid]), 30, "the task completes")
        wait_until(lambda: record(settings, tid) is None, 30, "its status expires")


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
async def test_status_rows_and_cached_results_expire_after_their_retention(
    settings_factory: Any, store: str
) -> None:
    settings = settings_factory(
        store=store, status_retention_s=3, result_retention_s=3, table_expiry_interval_s=0.5
    )
    topics = Topics.from_settings(settings)
    await ensure_topics(settings.kafka, topics.all())
    with running_worker(settings, app=APP, env=workers_env("cached")) as worker:
        [(envelope, md)] = await publish(settings, [("a", "an explanation")])
        tid = task_id("cached", envelope.id)
        wait_until(lambda: computed(settings) == [tid], 20, "the task runs")
        # Within the retention a redelivery is skipped: its status row says completed.
        await redeliver(settings, envelope)
        await wait_for(lambda: committed_past(settings, md.partition, md.offset + 1), timeout=20)
        assert computed(settings) == [tid]
        row = next(
            r
            for r in await read_topic(settings.kafka_bootstrap, topics.task_status.name, count=100, timeout=2)
            if r.key == tid.encode() and r.value is not None
        )
        result = next(
            r
            for r in await read_topic(settings.kafka_bootstrap, topics.result_cache_changelog.name, count=1)
            if r.value is not None
        )
        # Then both rows are deleted (tombstones in their changelogs)...
        rows = [(topics.task_status.name, tid), (topics.result_cache_changelog.name, result.key)]
        for changelog, key in rows:
            await wait_for(lambda c=changelog, k=key: tombstoned(settings.kafka_bootstrap, c, k), timeout=30)
        # ...so a redelivery runs the task again.
        await redeliver(settings, envelope)
        wait_until(lambda: computed(settings) == [tid, tid], 20, "the task runs again")
        assert worker.alive() and "Crashed" not in worker.tail(1000)
    # The status row lives in the partition of its input, and says so (its expiry is asked there).
    assert row.partition == md.partition and decode(row.value).data.partition == md.partition
    assert orjson.loads(result.value)["task_id"] == tid


async def committed_past(settings: Settings, partition: int, offset: int) -> bool:
    committed = await committed_offsets(settings, Topics.from_settings(settings).conversations.name)
    return committed.get(partition, -1) > offset


def computed(settings: Settings) -> list[str]:
    return [e[1] for e in effects(settings) if e[0] == "computed"]


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
async def test_every_status_folds_once_and_survives_a_restart(settings_factory: Any, store: str) -> None:
    # Published before the worker starts: Faust skips (and would ack) records
    # it hands out while recovering tables; none may be lost.
    settings = settings_factory(store=store)
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    tids = await publish_statuses(settings, 400)
    with running_worker(settings, app=APP):
        wait_until(lambda: all(record(settings, t) for t in tids[-20:]), 60, "the last statuses fold")
        before = [t for t in tids if (record(settings, t) or {}).get("status") != "completed"]
    with running_worker(settings, app=APP, name="restarted"):
        after = [t for t in tids if (record(settings, t) or {}).get("status") != "completed"]
    assert (before, after) == ([], [])


async def publish_statuses(settings: Settings, count: int) -> list[str]:
    """``count`` tasks, each queued, running then completed, straight onto the status topic."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        topic = Topics.from_settings(settings).task_status.name
        tids, sends = [], []
        for n in range(count):
            tid = task_id("bulk", f"event-{n}")
            tids.append(tid)
            for status in (TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.COMPLETED):
                change = TaskStatusChanged(
                    task_id=tid,
                    task_type="bulk",
                    status=status,
                    at=datetime.now(UTC),
                    event_id=f"event-{n}",
                    event_type="chat.turn",
                )
                sends.append(await producer.send(topic, encode(new_envelope(change)), key=tid.encode()))
        await asyncio.gather(*sends)
        return tids
    finally:
        await producer.stop()
