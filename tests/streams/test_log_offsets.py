"""The liveness probe's log offsets reader on the real broker: configured from the app alone."""

from __future__ import annotations

from collections.abc import Callable

import faust
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from faust.types import TP

from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from schemas.topics import Topics
from streams.log_offsets import LogOffsetsReader


async def test_reads_each_partitions_log_start_and_end_and_nothing_once_closed(
    settings_factory: Callable[..., Settings],
) -> None:
    s = settings_factory(topic_partitions=2)
    spec = Topics.from_settings(s).conversations
    await ensure_topics(s.kafka, [spec])
    producer = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(spec.name, f"turn {n}".encode(), partition=0)
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=s.kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_records(
            {TopicPartition(spec.name, 0): RecordsToDelete(before_offset=2)}
        )  # retention took the first two
    finally:
        await admin.close()
    # Not started: the reader needs only the app's configuration, not its consumer.
    app = faust.App(f"{s.app_id}-offsets", broker=[f"kafka://{server}" for server in s.bootstrap_servers])
    reader = LogOffsetsReader(app)
    p0, p1 = TP(spec.name, 0), TP(spec.name, 1)
    try:
        earliest = await reader.earliest_offsets(p0, p1)
        highwaters = await reader.highwaters(p0, p1)
    finally:
        await reader.close()

    assert earliest == {p0: 2, p1: 0}
    assert highwaters == {p0: 5, p1: 0}
    with pytest.raises(RuntimeError, match="closed"):
        await reader.highwaters(p0)
