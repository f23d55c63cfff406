"""The read model's Kafka side: every partition of its topics, from the beginning, no group.

No consumer group on purpose: each API replica must see every task, not the
share of partitions a group would give it, and it commits nothing, so it
never disturbs the workers' group. It assigns all partitions of the input
topics (an acknowledged event is its tasks' ``queued`` state), the task-status
and the dead-letter topics, reads them from the start, and resumes
where it was after a broker outage. New partitions are picked up on the next
metadata check. Kafka errors are logged and retried: the API serves on
without its view rather than fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import IllegalStateError, KafkaError

from foundation.settings import Settings
from kafka_io.connection import client_options
from kafka_io.offsets_consumer import offsets_consumer
from producers.webview.read_model import ReadModel
from schemas.tasks import TASK_ROUTES
from schemas.topics import Topics

log = logging.getLogger(__name__)

RETRY_S = 2.0
# How often the partitions and the records still to read are measured.
CHECK_S = 2.0
# A fetch returns once this much is there, or after this long.
FETCH_MIN_BYTES = 256 * 1024
FETCH_WAIT_MS = 100
# Records applied between two looks at the event loop: a burst's backlog applied in one
# go would hold every request, and the status rows behind it, for up to a second.
BATCH_RECORDS = 500


class ReadModelConsumer:
    def __init__(self, settings: Settings, model: ReadModel) -> None:
        topics = Topics.from_settings(settings)
        self._status_topic = topics.task_status.name
        self._dead_letter_topic = topics.dead_letter.name
        self._input_topics = sorted({topics.for_event_type(t).name for t in TASK_ROUTES})
        self._topics = [*self._input_topics, self._status_topic, self._dead_letter_topic]
        self._settings = settings
        self._model = model
        self._offsets: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        # Next offset to read per partition, kept across reconnections.
        self._positions: dict[TopicPartition, int] = {}
        # Log start and end per partition at the last measurement.
        self._starts: dict[TopicPartition, int] = {}
        self._ends: dict[TopicPartition, int] = {}
        self._task: asyncio.Task[None] | None = None
        # The reading consumer and its partitions, while connected.
        self._reader: AIOKafkaConsumer | None = None
        self._assigned: set[TopicPartition] = set()

    @property
    def clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient] | None:
        """The offsets-only consumer and the admin client (for the lag table); None while Kafka is away."""
        if self._offsets is None or self._admin is None:
            return None
        return self._offsets, self._admin

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webview-read-model")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        progress = self._model.progress
        while True:
            consumer = AIOKafkaConsumer(
                **client_options(self._settings.kafka),
                client_id=f"feynman-{self._settings.app_id}-webview",
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                # A fetch answered for every record the API publishes would cost the API's
                # one event loop a request per /chat; batches of up to FETCH_WAIT_MS cost little.
                fetch_min_bytes=FETCH_MIN_BYTES,
                fetch_max_wait_ms=FETCH_WAIT_MS,
            )
            # Log offsets on connections of their own, not behind the consumer's fetches.
            offsets = offsets_consumer(
                self._settings.kafka, f"feynman-{self._settings.app_id}-webview-offsets"
            )
            admin = AIOKafkaAdminClient(**client_options(self._settings.kafka), request_timeout_ms=5000)
            try:
                await consumer.start()
                await offsets.start()
                await admin.start()
                self._offsets, self._admin, self._reader = offsets, admin, consumer
                progress.connected, progress.error = True, None
                await self._consume(consumer, offsets, admin)
            except (KafkaError, OSError) as exc:
                progress.connected, progress.error = False, f"{type(exc).__name__}: {exc}"
                log.warning("web view read model: %s; retrying in %ss", progress.error, RETRY_S)
            finally:
                self._offsets = self._admin = self._reader = None
                self._assigned = set()
                await consumer.stop()
                await offsets.stop()
                await admin.close()
            await asyncio.sleep(RETRY_S)

    async def _consume(
        self, consumer: AIOKafkaConsumer, offsets: AIOKafkaConsumer, admin: AIOKafkaAdminClient
    ) -> None:
        assigned: set[TopicPartition] = set()
        checked_at = 0.0
        while True:
            if time.monotonic() - checked_at >= CHECK_S:
                assigned = await self._assign(consumer, admin, assigned)
                await self._measure(consumer, offsets, assigned)
                checked_at = time.monotonic()
            if not assigned:
                await asyncio.sleep(CHECK_S)
                continue
            batches = await consumer.getmany(timeout_ms=500, max_records=BATCH_RECORDS)
            now = datetime.now(UTC)
            for tp, records in batches.items():
                for record in records:
                    if tp.topic == self._status_topic:
                        self._model.apply_status(record.value, key=record.key)
                    elif tp.topic != self._dead_letter_topic:
                        self._model.apply_event(record.value, now=now)
                    else:
                        self._model.apply_dead_letter(
                            record.value, partition=tp.partition, offset=record.offset
                        )
                    self._positions[tp] = record.offset + 1
                self._model.progress.records += len(records)
            if batches:
                self._update_behind(consumer, assigned)

    async def caught_up(self, timeout_s: float) -> bool:
        """Wait until every record on the topics as of now is read (at most ``timeout_s``).

        Read-your-writes for status lookups: an event Kafka acknowledged before
        this call is below the end offsets asked for here, so once they are read
        its tasks are in the read model, whichever replica published it.
        """
        ends: dict[TopicPartition, int] | None = None
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    clients, consumer, assigned = self.clients, self._reader, list(self._assigned)
                    if clients is None or consumer is None or not assigned:
                        ends = None  # (re)connecting: ask again once it reads
                    else:
                        if ends is None or set(ends) != set(assigned):
                            ends = await clients[0].end_offsets(assigned)
                        # The reader applies each batch before it fetches again: its position is read.
                        positions = {tp: await consumer.position(tp) for tp in assigned}
                        if all(positions[tp] >= end for tp, end in ends.items()):
                            return True
                    await asyncio.sleep(0.02)
        except (KafkaError, TimeoutError, AssertionError, IllegalStateError):
            return False  # Kafka away, too slow, or the assignment changed meanwhile

    async def _assign(
        self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient, assigned: set[TopicPartition]
    ) -> set[TopicPartition]:
        """Every partition of its topics (a topic not created yet has none, and is asked for again)."""
        described = await admin.describe_topics(self._topics)
        wanted = {
            TopicPartition(topic["topic"], p["partition"])
            for topic in described
            if not topic["error_code"]
            for p in topic["partitions"]
        }
        if wanted == assigned:
            return assigned
        consumer.assign(list(wanted))
        self._assigned = wanted
        for tp in wanted:
            if tp in self._positions:
                consumer.seek(tp, self._positions[tp])
            else:
                await consumer.seek_to_beginning(tp)
        return wanted

    async def _measure(
        self, consumer: AIOKafkaConsumer, offsets: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> None:
        """Ask the broker for the log start and end of every partition (every ``CHECK_S``)."""
        if assigned:
            self._starts = await offsets.beginning_offsets(list(assigned))
            self._ends = await offsets.end_offsets(list(assigned))
        self._update_behind(consumer, assigned)

    def _update_behind(self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]) -> None:
        """Records not read yet; the fetcher's latest high watermark, where known, is fresher than
        the last measurement, so the notice clears as soon as the view has read everything."""
        if not assigned:
            self._model.progress.behind = None
            return
        behind = 0
        for tp in assigned:
            end = consumer.highwater(tp) if tp in self._positions else None
            end = end if end is not None else self._ends.get(tp, 0)
            behind += max(0, end - max(self._positions.get(tp, 0), self._starts.get(tp, 0)))
        self._model.progress.behind = behind
