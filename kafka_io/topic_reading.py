"""A consumer that reads partitions from their log start, with no consumer group.

``assign()`` starts a reset of each partition's position to the consumer's
default strategy, and aiokafka applies that reset's answer to a
``seek_to_beginning`` made while the reset is in flight (the Java client had
the same race as KAFKA-7703): the position can land at the end, and a reader
waiting for the records in between waits forever. An explicit ``seek`` to the
log start offsets cancels the pending reset, and "earliest" as the default makes
any reset that still slips through agree with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition

from foundation.settings import KafkaConnection
from kafka_io.connection import client_options


@asynccontextmanager
async def reading_from_start(
    kafka: KafkaConnection, tps: Sequence[TopicPartition]
) -> AsyncIterator[AIOKafkaConsumer]:
    """The consumer, assigned ``tps`` and positioned at each one's first offset; stopped on exit."""
    consumer = AIOKafkaConsumer(
        **client_options(kafka), enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign(list(tps))
        for tp, first in (await consumer.beginning_offsets(list(tps))).items():
            consumer.seek(tp, first)
        yield consumer
    finally:
        await consumer.stop()
