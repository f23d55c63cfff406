"""The worker's write path under faults, on the real broker and a real worker process.

What a user relies on: a record Kafka refused is written again before the event
is acked, and no task runs twice for it; a tombstone or an oversize record is
dead-lettered with its reason and its partition's commit moves past it; a worker
told to stop stops in bounded time and leaves what it did not finish to the next.
"""

from __future__ import annotations

import base64
import time

from aiokafka import AIOKafkaProducer

from foundation.settings import Settings
from schemas import decode, task_id
from schemas.topics import Topics
from tests.streams.worker_support import (
    APP,
    committed_offsets,
    effects,
    publish,
    terminal,
    wait_until,
    workers_env,
)
from tests.support import read_topic, running_worker, wait_for


async def test_a_refused_status_send_is_written_again_before_the_ack_and_no_task_runs_twice(
    settings: Settings,
) -> None:
    topics = Topics.from_settings(settings)
    # The 2nd and the 5th status rows this worker sends fail, as Kafka fails a send after its retries.
    fail = f"{topics.task_status.name}:2,{topics.task_status.name}:5"
    env = {**workers_env("flaky"), "FEYNMAN_TEST_FAIL_SENDS": fail}
    with running_worker(settings, app=APP, env=env):
        published = await publish(settings, [(f"s-{i % 3}", "fail:0") for i in range(8)])
        tids = [task_id("flaky", envelope.id) for envelope, _ in published]
        records = wait_until(lambda: terminal(settings, tids), 60, "every task ends")
        ends: dict[int, int] = {}
        for _, md in published:
            ends[md.partition] = max(ends.get(md.partition, 0), md.offset + 1)

        async def all_committed() -> bool:
            committed = await committed_offsets(settings, topics.conversations.name)
            return all(committed.get(p, -1) >= end for p, end in ends.items())

        await wait_for(all_committed, timeout=30)
    assert {tid: r["status"] for tid, r in records.items()} == dict.fromkeys(tids, "completed")
    log = effects(settings)
    assert [e[1] for e in log if e[0] == "send_failed"] == [topics.task_status.name] * 2
    runs = [e[1] for e in log if e[0] == "run"]
    assert sorted(runs) == sorted(tids)  # each task ran exactly once


async def test_a_tombstone_and_an_oversize_record_are_dead_lettered_and_the_partition_moves_on(
    settings: Settings,
) -> None:
    topics = Topics.from_settings(settings)
    conversations = topics.conversations.name
    big = (
        b'{"id":"big","type":"chat.turn","v":1,"ts":"2026-01-01T00:00:00Z","data":"' + b"x" * 900_000 + b'"}'
    )
    with running_worker(settings, app=APP, env=workers_env("flaky")):
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            null_md = await producer.send_and_wait(conversations, None, key=b"s-null")
            big_md = await producer.send_and_wait(conversations, big, key=b"s-big")
        finally:
            await producer.stop()
        # A later event behind each of them, on the same partitions.
        published = await publish(settings, [("s-null", "fail:0"), ("s-big", "fail:0")])
        tids = [task_id("flaky", envelope.id) for envelope, _ in published]
        records = wait_until(lambda: terminal(settings, tids), 60, "the events behind them complete")
        letters = [
            decode(r.value).data
            for r in await read_topic(settings.kafka_bootstrap, topics.dead_letter.name, count=2)
        ]
        ends = {md.partition: md.offset + 1 for _, md in published}

        async def all_committed() -> bool:
            committed = await committed_offsets(settings, conversations)
            return all(committed.get(p, -1) >= end for p, end in ends.items())

        await wait_for(all_committed, timeout=30)
    assert [r["status"] for r in records.values()] == ["completed", "completed"]
    by_reason = {letter.reason: letter for letter in letters}
    assert set(by_reason) == {"null_value", "too_large"}
    null = by_reason["null_value"]
    assert (null.origin_topic, null.origin_partition, null.origin_offset) == (
        conversations,
        null_md.partition,
        null_md.offset,
    )
    assert null.original_key == "s-null" and null.original_b64 == "" and null.original_bytes == 0
    large = by_reason["too_large"]
    assert (large.origin_topic, large.origin_partition, large.origin_offset) == (
        conversations,
        big_md.partition,
        big_md.offset,
    )
    assert large.original_bytes == len(big)
    preview = base64.b64decode(large.original_b64)
    assert 0 < len(preview) <= 4096 and big.startswith(preview)
    assert str(len(big)) in large.error


async def test_a_worker_told_to_stop_stops_within_30_s_and_its_successor_runs_what_it_held(
    settings: Settings,
) -> None:
    topics = Topics.from_settings(settings)
    [(envelope, md)] = await publish(settings, [("s-stop", "sleep:300 n:1")])
    tid = task_id("recorder", envelope.id)
    with running_worker(settings, app=APP, env=workers_env("recorder"), name="first") as first:
        wait_until(lambda: [e for e in effects(settings) if e[:2] == ["start", tid]], 60, "the task starts")
        started = time.monotonic()
        first.stop(timeout=60)  # SIGTERM; SIGKILL only after 60 s
        stopped_after = time.monotonic() - started
    assert stopped_after < 30
    committed = await committed_offsets(settings, topics.conversations.name)
    assert committed.get(md.partition, 0) <= md.offset  # not acked: it did not finish
    successor_env = {**workers_env("recorder"), "FEYNMAN_WORKER_STOP_GRACE_S": "1"}
    with running_worker(settings, app=APP, env=successor_env, name="second"):
        starts = wait_until(
            lambda: (s := [e for e in effects(settings) if e[:2] == ["start", tid]]) and len(s) >= 2 and s,
            60,
            "the successor runs the task again",
        )
    assert starts[0][2] != starts[1][2]  # two processes
