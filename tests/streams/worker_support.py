"""Publishing to and observing a real worker: shared by the runtime's tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from foundation.settings import Settings
from kafka_io.topic_reading import reading_from_start
from schemas import ChatTurn, decode, encode, new_envelope
from schemas.events import TaskStatusChanged
from schemas.status import fold
from schemas.topics import Topics

APP = "tests.streams.runtime_app"
TERMINAL = {"completed", "dead", "invalid", "skipped"}


def workers_env(*tasks: str, concurrency: int | None = None) -> dict[str, str]:
    env = {"FEYNMAN_TEST_TASKS": ",".join(tasks)}
    if concurrency is not None:
        env["FEYNMAN_TEST_CONCURRENCY"] = str(concurrency)
    return env


async def publish(
    settings: Settings, texts: list[tuple[str, str]], *, topic: str | None = None
) -> list[tuple[Any, Any]]:
    """Publish chat.turn events (session, text) in order; returns (envelope, metadata) pairs."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        out = []
        name = topic or Topics.from_settings(settings).conversations.name
        for session, text in texts:
            envelope = new_envelope(ChatTurn(session_id=session, topic="t", user_input=text))
            md = await producer.send_and_wait(name, encode(envelope), key=session.encode())
            out.append((envelope, md))
        return out
    finally:
        await producer.stop()


async def redeliver(settings: Settings, envelope: Any) -> None:
    """The same chat.turn record again, as a crash or a rebalance would deliver it."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        name = Topics.from_settings(settings).conversations.name
        await producer.send_and_wait(name, encode(envelope), key=envelope.data.session_id.encode())
    finally:
        await producer.stop()


def record(settings: Settings, tid: str) -> dict[str, Any] | None:
    r = httpx.get(f"{settings.worker_base_url}/tasks/{tid}/", timeout=5)
    return r.json() if r.status_code == 200 else None


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


def terminal(settings: Settings, tids: list[str]) -> dict[str, dict[str, Any]] | None:
    records = {tid: record(settings, tid) for tid in tids}
    if all(r is not None and r["status"] in TERMINAL for r in records.values()):
        return records  # type: ignore[return-value]
    return None


def effects(settings: Settings) -> list[list[str]]:
    path = settings.data_dir / "effects.log"
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


async def status_changes(settings: Settings) -> list[TaskStatusChanged]:
    """Every task.status event published so far, in partition order."""
    topic = Topics.from_settings(settings).task_status.name
    tps = [TopicPartition(topic, p) for p in range(Topics.from_settings(settings).task_status.partitions)]
    async with reading_from_start(settings.kafka, tps) as consumer:
        ends = await consumer.end_offsets(tps)
        changes: list[TaskStatusChanged] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for recs in (await consumer.getmany(timeout_ms=200)).values():
                changes.extend(decode(r.value).data for r in recs)
        return changes


async def folded(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every task's status, folded from the status topic as the worker's table does."""
    out: dict[str, dict[str, Any]] = {}
    for change in await status_changes(settings):
        new = fold(out.get(change.task_id), change)
        if new is not None:
            out[change.task_id] = new
    return out


async def committed_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The worker group's committed offset per partition of ``topic``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.app_id)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
