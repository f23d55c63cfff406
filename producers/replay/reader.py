"""Reading a replay's source records: offset ranges resolved once, then read in order.

A plain assigned consumer (no group): a replay must neither join the
worker's consumer group nor commit offsets anyone else relies on. Time
bounds become offsets with ``offsets_for_times``; records of each partition
come back in offset order, which keeps per-key order in the copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from foundation.errors import ReplayError
from foundation.settings import Settings
from kafka_io.connection import client_options
from producers.replay.selection import Selection

BATCH = 500


class SourceReader:
    """The source topic of one replay."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self._topic = topic
        self._kafka = settings.kafka
        self._consumer = AIOKafkaConsumer(
            **client_options(settings.kafka),
            client_id=f"feynman-{settings.app_id}-replay",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )

    async def __aenter__(self) -> SourceReader:
        try:
            await self._consumer.start()
        except KafkaError as exc:
            await self._consumer.stop()
            raise ReplayError(f"Kafka is unreachable: {exc!r}") from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def partitions(self) -> list[int]:
        # The consumer's partitions_for_topic reads a metadata cache that only a
        # subscription fills; the admin client asks the broker.
        admin = AIOKafkaAdminClient(**client_options(self._kafka))
        await admin.start()
        try:
            [described] = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        found = [p["partition"] for p in described.get("partitions") or []]
        if described.get("error_code") or not found:
            raise ReplayError(
                f"topic {self._topic} does not exist on the broker (run `feynman topics create`)"
            )
        return sorted(found)

    async def ranges(self, selection: Selection) -> dict[int, tuple[int, int]]:
        """Partition → ``[first, end)`` offsets the selection covers, as of now."""
        tps = [TopicPartition(self._topic, p) for p in await self.partitions()]
        if selection.offsets is not None:
            unknown = sorted(set(selection.offsets) - {tp.partition for tp in tps})
            if unknown:
                raise ReplayError(f"topic {self._topic} has no partition {unknown[0]}")
            tps = [tp for tp in tps if tp.partition in selection.offsets]
        firsts = await self._consumer.beginning_offsets(tps)
        ends = await self._consumer.end_offsets(tps)
        lo = {tp: firsts[tp] for tp in tps}
        hi = {tp: ends[tp] for tp in tps}
        if selection.offsets is not None:
            for tp in tps:
                first, end = selection.offsets[tp.partition]
                lo[tp] = max(lo[tp], first)
                hi[tp] = min(hi[tp], end) if end is not None else hi[tp]
        if selection.start is not None:
            lo = {tp: max(lo[tp], off) for tp, off in (await self._at(tps, selection.start, hi)).items()}
        if selection.end is not None:
            hi = {tp: min(hi[tp], off) for tp, off in (await self._at(tps, selection.end, hi)).items()}
        return {tp.partition: (lo[tp], max(lo[tp], hi[tp])) for tp in tps}

    async def _at(
        self, tps: list[TopicPartition], at: datetime, ends: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """The first offset with a timestamp at or after ``at``; the end when there is none."""
        found = await self._consumer.offsets_for_times({tp: int(at.timestamp() * 1000) for tp in tps})
        return {tp: found[tp].offset if found.get(tp) is not None else ends[tp] for tp in tps}

    async def read(self, ranges: dict[int, tuple[int, int]]) -> AsyncIterator[list[ConsumerRecord]]:
        """Batches of records inside ``ranges``, each partition in offset order, until all are read."""
        todo = {TopicPartition(self._topic, p): r for p, r in ranges.items() if r[0] < r[1]}
        if not todo:
            return
        self._consumer.assign(list(todo))
        for tp, (first, _) in todo.items():
            self._consumer.seek(tp, first)
        while todo:
            fetched = await self._consumer.getmany(*todo, timeout_ms=1000, max_records=BATCH)
            batch: list[ConsumerRecord] = []
            for tp, records in fetched.items():
                end = todo[tp][1]
                batch.extend(r for r in records if r.offset < end)
            for tp in list(todo):
                # Deleted or compacted offsets leave gaps; the position is what counts.
                if await self._consumer.position(tp) >= todo[tp][1]:
                    del todo[tp]
                    self._consumer.pause(tp)
            if batch:
                yield batch
