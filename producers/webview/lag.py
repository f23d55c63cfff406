"""Consumer lag of the workers' group, per topic and partition, as the web view shows it.

The group is the Faust app (``settings.app_id``); its committed offsets come
from the broker (the admin client), the log start and end from a consumer
without a group. Lag is computed by :class:`domain.liveness.PartitionState`,
the rule the worker's own ``/health/`` uses (committed or log start, whichever
is later, to log end), so the view and the worker report the same numbers.
Partitions of the worker's input topics appear even before the group first
commits on them: their lag is then everything the log holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from domain.liveness import PartitionState
from foundation.settings import Settings
from schemas.topics import Topics


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end: int | None
    lag: int | None


def lag_rows(
    partitions: set[tuple[str, int]],
    committed: Mapping[tuple[str, int], int],
    earliest: Mapping[tuple[str, int], int],
    end: Mapping[tuple[str, int], int],
) -> list[PartitionLag]:
    """One row per partition, sorted; a partition the group never committed on has committed None."""
    rows = []
    for tp in sorted(partitions):
        state = PartitionState(
            assigned_at=0.0, committed=committed.get(tp), earliest=earliest.get(tp), highwater=end.get(tp)
        )
        rows.append(PartitionLag(tp[0], tp[1], state.committed, state.highwater, state.lag))
    return rows


def worker_input_topics(settings: Settings) -> list[str]:
    """The topics the worker's agents consume, so commit on, in the order the page lists them."""
    topics = Topics.from_settings(settings)
    return [
        topics.conversations.name,
        topics.llm_usage.name,
        topics.replay.name,
        *(t.name for t in topics.retry_tiers),
    ]


async def read_group_lag(
    settings: Settings, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient
) -> list[PartitionLag]:
    """Ask the broker for the group's committed offsets and the log offsets; raises KafkaError."""
    described = await admin.describe_topics(worker_input_topics(settings))
    partitions = {
        (topic["topic"], p["partition"])
        for topic in described
        if not topic["error_code"]
        for p in topic["partitions"]
    }
    committed = {
        (tp.topic, tp.partition): meta.offset
        for tp, meta in (await admin.list_consumer_group_offsets(settings.app_id)).items()
        if meta.offset >= 0
    }
    partitions |= set(committed)
    tps = [TopicPartition(topic, p) for topic, p in partitions]
    earliest = await consumer.beginning_offsets(tps)
    end = await consumer.end_offsets(tps)
    return lag_rows(
        partitions,
        committed,
        {(tp.topic, tp.partition): o for tp, o in earliest.items()},
        {(tp.topic, tp.partition): o for tp, o in end.items()},
    )
