"""The one Kafka producer of the API and the CLI.

Idempotent (``enable_idempotence=True``, ``acks='all'``) so a retried send
never duplicates a record within a partition, with a bounded linger so a
reply waits at most a few milliseconds for its batch. A send returns only
once Kafka acknowledged the record; any Kafka error becomes a
:class:`~foundation.errors.PublishError`, so nothing is reported as accepted that
Kafka did not take.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from foundation.errors import PublishError
from foundation.settings import Settings
from kafka_io.connection import client_options
from schemas.envelope import Envelope, encode, ordering_key
from schemas.topics import Topics

log = logging.getLogger(__name__)

LINGER_MS = 0
MAX_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Published:
    """Where Kafka put a record."""

    topic: str
    partition: int
    offset: int


class Publisher:
    """Publishes envelopes to their declared topics, keyed by their ordering key."""

    def __init__(self, settings: Settings, *, send_timeout_s: float = 10.0) -> None:
        self._settings = settings
        self._topics = Topics.from_settings(settings)
        self._send_timeout_s = send_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    @property
    def topics(self) -> Topics:
        return self._topics

    @property
    def started(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        """Connect; raises :class:`PublishError` when no broker answers."""
        async with self._lock:
            if self._producer is not None:
                return
            producer = AIOKafkaProducer(
                **client_options(self._settings.kafka),
                client_id=f"feynman-{self._settings.app_id}-publisher",
                enable_idempotence=True,
                acks="all",
                linger_ms=LINGER_MS,
                compression_type="lz4",
                max_request_size=MAX_REQUEST_BYTES,
                request_timeout_ms=int(self._send_timeout_s * 1000),
            )
            try:
                await producer.start()
            except KafkaError as exc:
                await producer.stop()
                raise PublishError(
                    f"Kafka at {self._settings.kafka_bootstrap} is unreachable: {exc}"
                ) from exc
            self._producer = producer

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                producer, self._producer = self._producer, None
                await producer.stop()

    async def publish(self, envelope: Envelope[Any], *, key: str | None = None) -> Published:
        """Send one envelope to the topic of its type and wait for Kafka's ack."""
        topic = self._topics.for_event_type(envelope.type).name
        return await self.publish_raw(topic, encode(envelope), key=key or ordering_key(envelope))

    async def publish_all(self, envelopes: Iterable[Envelope[Any]]) -> list[Published]:
        """Send several envelopes concurrently (one batch) and wait for every ack."""
        return list(await asyncio.gather(*(self.publish(e) for e in envelopes)))

    async def submit_raw(self, topic: str, value: bytes, *, key: str | None) -> Awaitable[Published]:
        """Queue encoded bytes for sending and return the wait for Kafka's ack.

        Records submitted one after another keep that order in their partition
        (the idempotent producer appends in call order), and many can be in
        flight at once: the replay tool submits a batch, then awaits every ack
        before it checkpoints.
        """
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        try:
            fut = await self._producer.send(topic, value, key=key.encode() if key is not None else None)
        except KafkaError as exc:
            raise PublishError(f"Kafka did not take the record for {topic}: {exc!r}") from exc
        return self._acked(topic, fut)

    async def _acked(self, topic: str, fut: Awaitable[Any]) -> Published:
        try:
            async with asyncio.timeout(self._send_timeout_s):
                md = await fut
        except (KafkaError, TimeoutError) as exc:
            raise PublishError(f"Kafka did not acknowledge the record on {topic}: {exc!r}") from exc
        return Published(md.topic, md.partition, md.offset)

    async def publish_raw(self, topic: str, value: bytes, *, key: str | None) -> Published:
        """Send already encoded bytes; the escape hatch for dead letters and replays."""
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        try:
            async with asyncio.timeout(self._send_timeout_s):
                md = await self._producer.send_and_wait(
                    topic, value, key=key.encode() if key is not None else None
                )
        except (KafkaError, TimeoutError) as exc:
            raise PublishError(f"Kafka did not acknowledge the record on {topic}: {exc!r}") from exc
        return Published(md.topic, md.partition, md.offset)
