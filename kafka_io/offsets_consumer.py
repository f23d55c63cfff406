"""A consumer that only asks for log offsets, on connections nothing else uses.

A broker answers one connection's requests one at a time, in order, and a
consumer that fetches keeps a long poll in flight on its connections
(``fetch_max_wait_ms``: 500 ms by aiokafka's default, 1500 ms in Faust's
driver, where it is not a setting). A ListOffsets request sent through such a
consumer waits behind the poll: the worker's ``/health/`` took 1.2 to 1.8 s
and the web view's lag table 0.7 s that way. A consumer assigned nothing
fetches nothing, so its requests are answered at once.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer

from foundation.settings import KafkaConnection
from kafka_io.connection import client_options


def offsets_consumer(kafka: KafkaConnection, client_id: str, **config: Any) -> AIOKafkaConsumer:
    """A group-less consumer, not started, for ``beginning_offsets``/``end_offsets`` only: never assign it."""
    return AIOKafkaConsumer(
        **client_options(kafka),
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        **config,
    )
