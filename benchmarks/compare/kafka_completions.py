"""Completions read from a Kafka topic (no consumer group), from its end at start."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from benchmarks.compare.jobs import Completion

Parse = Callable[[bytes], Completion | None]


class TopicCompletions:
    """Reads ``topic`` in the background; :meth:`drain` hands over what ``parse`` accepted."""

    def __init__(self, bootstrap: str, topic: str, parse: Parse) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._parse = parse
        self._seen: list[Completion] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        tps = [TopicPartition(self._topic, p) for p in await self._partitions()]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the end now, so nothing written after start is missed
            await consumer.position(tp)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read())

    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await admin.start()
        try:
            [described] = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        return sorted(p["partition"] for p in described["partitions"])

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                for record in records:
                    done = self._parse(record.value)
                    if done is not None:
                        self._seen.append(done)

    def drain(self) -> list[Completion]:
        out, self._seen = self._seen, []
        return out

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
