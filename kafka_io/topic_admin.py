"""Creates the declared topics and checks existing ones against their declaration.

Idempotent: a topic that exists and matches is left alone; one that exists
with other settings is reported (never silently accepted), because a wrong
partition count breaks per-session order and table co-partitioning.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from foundation.errors import BrokerError, TopicMismatchError
from foundation.settings import KafkaConnection
from kafka_io.connection import client_options, connection_problem
from schemas.topics import TopicSpec

Outcome = Literal["created", "exists", "mismatch"]


@dataclass(frozen=True, slots=True)
class TopicReport:
    name: str
    outcome: Outcome
    differences: tuple[str, ...] = ()

    def line(self) -> str:
        if self.outcome == "mismatch":
            return f"{self.name}: MISMATCH: {'; '.join(self.differences)}"
        return f"{self.name}: {self.outcome}"


async def ensure_topics(kafka: KafkaConnection, specs: Sequence[TopicSpec]) -> list[TopicReport]:
    """Create missing topics and compare existing ones; one report per topic."""
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=15000)
    try:
        await admin.start()
    except KafkaError as exc:
        raise BrokerError(f"cannot reach Kafka: {await connection_problem(kafka)}") from exc
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created: set[str] = set()
        for spec in missing:
            response = await admin.create_topics(
                [NewTopic(spec.name, spec.partitions, spec.replication_factor, topic_configs=spec.config())]
            )
            # aiokafka reports per-topic errors in the response instead of raising.
            for _name, code, *rest in response.topic_errors:
                if code == TopicAlreadyExistsError.errno:
                    continue  # created concurrently (another worker or CLI): compared below
                if code != 0:
                    message = rest[0] if rest else ""
                    raise BrokerError(f"cannot create topic {spec.name}: error {code} {message}")
                created.add(spec.name)
        reports = []
        for spec in specs:
            if spec.name in created:
                await _described_partitions(admin, spec.name)  # usable once this returns
                reports.append(TopicReport(spec.name, "created"))
                continue
            diffs = await _differences(admin, spec)
            reports.append(TopicReport(spec.name, "mismatch" if diffs else "exists", tuple(diffs)))
        return reports
    finally:
        await admin.close()


def raise_on_mismatch(reports: Sequence[TopicReport]) -> None:
    bad = [r.line() for r in reports if r.outcome == "mismatch"]
    if bad:
        raise TopicMismatchError(" | ".join(bad))


async def _described_partitions(
    admin: AIOKafkaAdminClient, name: str, timeout_s: float = 15.0
) -> list[dict[str, Any]]:
    """The topic's partitions, once metadata shows them.

    Right after creation the broker's metadata may list a topic with no
    partitions yet; reading it then would report a false mismatch.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        described = (await admin.describe_topics([name]))[0]
        if described["partitions"] or time.monotonic() > deadline:
            return list(described["partitions"])
        await asyncio.sleep(0.2)


async def _differences(admin: AIOKafkaAdminClient, spec: TopicSpec) -> list[str]:
    partitions = await _described_partitions(admin, spec.name)
    diffs = []
    if len(partitions) != spec.partitions:
        diffs.append(f"partitions {len(partitions)} != declared {spec.partitions}")
    replicas = min((len(p["replicas"]) for p in partitions), default=0)
    if replicas != spec.replication_factor:
        diffs.append(f"replication factor {replicas} != declared {spec.replication_factor}")
    [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name)])
    actual = {}
    for resource in response.resources:
        for entry in resource[4]:
            actual[entry[0]] = entry[1]
    for key, want in spec.config().items():
        if actual.get(key) != want:
            diffs.append(f"{key}={actual.get(key)} != declared {want}")
    return diffs
