"""Log start and end offsets for the liveness probe, read on connections of their own.

Read through the app's consumer, these requests waited behind its 1.5 s long
polls (:mod:`kafka_io.offsets_consumer`): on an idle worker ``/health/`` took
1.2 to 1.8 s, over a Kubernetes probe's default 1 s timeout and close to the
API's 2 s readiness budget.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth, server_list
from faust.types import TP

KAFKA_PORT = 9092


class LogOffsets(Protocol):
    """What the probe reads: Faust's consumer has the same two methods."""

    async def earliest_offsets(self, *tps: TP) -> Mapping[TP, int]: ...

    async def highwaters(self, *tps: TP) -> Mapping[TP, int]: ...


class LogOffsetsReader:
    """An offsets-only consumer with the app's brokers, credentials and isolation level.

    Started on the first reading, so building an app opens no connection; a
    reading after :meth:`close` (a timer firing while the worker stops) raises
    rather than open connections nobody closes.
    """

    def __init__(self, app: faust.App) -> None:
        self._app = app
        self._consumer: AIOKafkaConsumer | None = None
        self._starting = asyncio.Lock()
        self._closed = False

    async def earliest_offsets(self, *tps: TP) -> Mapping[TP, int]:
        consumer = await self._started()
        offsets = await consumer.beginning_offsets([TopicPartition(tp.topic, tp.partition) for tp in tps])
        return {TP(tp.topic, tp.partition): offset for tp, offset in offsets.items()}

    async def highwaters(self, *tps: TP) -> Mapping[TP, int]:
        """Log end offsets; the last stable offsets when the app reads committed records only."""
        consumer = await self._started()
        offsets = await consumer.end_offsets([TopicPartition(tp.topic, tp.partition) for tp in tps])
        return {TP(tp.topic, tp.partition): offset for tp, offset in offsets.items()}

    async def close(self) -> None:
        async with self._starting:
            self._closed = True
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def _started(self) -> AIOKafkaConsumer:
        async with self._starting:
            if self._closed:
                raise RuntimeError("the log offsets reader is closed")
            if self._consumer is None:
                conf = self._app.conf
                # The worker's own connection (its Faust broker and credentials), group-less,
                # for beginning_offsets/end_offsets only.
                consumer = AIOKafkaConsumer(
                    bootstrap_servers=server_list(conf.broker, KAFKA_PORT),
                    client_id=f"{conf.broker_client_id}-log-offsets",
                    group_id=None,
                    enable_auto_commit=False,
                    isolation_level="read_committed" if self._app.in_transaction else "read_uncommitted",
                    request_timeout_ms=int(conf.broker_request_timeout * 1000),
                    **credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context),
                )
                try:
                    await consumer.start()
                except BaseException:  # a failed or abandoned start leaves no client behind
                    await consumer.stop()
                    raise
                self._consumer = consumer
            return self._consumer
