"""What a no-op task costs in Kafka records, counted on the real broker.

The budget (docs/runtime.md): in the steady state one no-op task costs at most
2 records written in all (the API's event, the worker's status row; changelogs
and every topic Faust creates included) and at most 2 consumed by the worker.
Counted as the growth of every topic's end offsets, and of the worker group's
committed offsets, across N tasks.
"""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from foundation.settings import Settings
from kafka_io.offsets_consumer import offsets_consumer
from kafka_io.topic_admin import ensure_topics
from producers.publisher import Publisher
from producers.publishing import publish_with_tasks
from schemas import ChatTurn, new_envelope, task_id
from schemas.topics import Topics
from tests.streams.worker_support import APP, terminal, wait_until, workers_env
from tests.support import running_worker, wait_for

TASKS = 300


async def _end_offsets(settings: Settings) -> dict[TopicPartition, int]:
    """The end offset of every partition of every topic of the deployment (its prefix, its app id)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        names = [
            t for t in await admin.list_topics() if t.startswith((settings.topic_prefix, settings.app_id))
        ]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = offsets_consumer(settings.kafka, "records-budget")
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def _committed(settings: Settings) -> dict[Any, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        return {
            tp: meta.offset for tp, meta in (await admin.list_consumer_group_offsets(settings.app_id)).items()
        }
    finally:
        await admin.close()


async def _run_tasks(settings: Settings, publisher: Publisher, count: int) -> None:
    """``count`` no-op tasks through the API's own publishing path, until all completed and committed."""
    envelopes = [
        new_envelope(ChatTurn(session_id=f"s-{i % 20}", topic="t", user_input="noop")) for i in range(count)
    ]
    accepted = [await publish_with_tasks(publisher, envelope) for envelope in envelopes]
    # The test worker routes chat.turn to the no-op "fast" task type alone.
    tids = [task_id("fast", envelope.id) for envelope in envelopes]
    wait_until(lambda: terminal(settings, tids), 60, "every task completed")
    conversations = Topics.from_settings(settings).conversations.name
    ends = {}
    for a in accepted:
        ends[a.partition] = max(ends.get(a.partition, 0), a.offset + 1)

    async def committed() -> bool:
        offsets = await _committed(settings)
        return all(offsets.get(TopicPartition(conversations, p), -1) >= end for p, end in ends.items())

    await wait_for(committed, timeout=30)


async def test_a_no_op_task_costs_two_records_written_and_at_most_two_consumed(
    settings_factory: Any,
) -> None:
    # No periodic reports during the count: they are per worker and minute, not per task.
    settings = settings_factory(monitoring_interval_s=3600.0, cost_report_interval_s=86_400.0)
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    publisher = Publisher(settings)
    await publisher.start()
    try:
        with running_worker(settings, app=APP, env=workers_env("fast")):
            await _run_tasks(settings, publisher, 20)  # the steady state: topics and leaders exist
            ends_before, committed_before = await _end_offsets(settings), await _committed(settings)
            await _run_tasks(settings, publisher, TASKS)
            ends_after, committed_after = await _end_offsets(settings), await _committed(settings)
    finally:
        await publisher.stop()
    by_topic: dict[str, int] = {}
    for tp, end in ends_after.items():
        if grown := end - ends_before.get(tp, 0):
            by_topic[tp.topic] = by_topic.get(tp.topic, 0) + grown
    consumed = sum(offset - committed_before.get(tp, 0) for tp, offset in committed_after.items())
    topics = Topics.from_settings(settings)
    assert by_topic == {topics.conversations.name: TASKS, topics.task_status.name: TASKS}
    assert sum(by_topic.values()) <= 2 * TASKS
    assert consumed <= 2 * TASKS
