"""Many finished tasks' state for workload (e): status events in Kafka, result keys in Redis."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import orjson
import redis
from aiokafka import AIOKafkaProducer

from foundation.settings import Settings
from kafka_io.connection import client_options
from schemas.envelope import encode, new_envelope
from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus
from schemas.topics import Topics

CHUNK = 10_000


def _statuses(count: int, tag: str) -> Iterator[tuple[str, bytes]]:
    now = datetime.now(UTC)
    for i in range(count):
        tid = f"fill-{tag}-{i}"
        change = TaskStatusChanged(
            task_id=tid,
            task_type="bench",
            status=TaskStatus.COMPLETED,
            at=now,
            event_id=f"ev-{tag}-{i}",
            event_type="chat.turn",
            session_id=f"s{tag}-{i % 1000}",
        )
        yield tid, encode(new_envelope(change, source="bench-fill"))


async def fill_status_topic(settings: Settings, count: int) -> list[str]:
    """``count`` completed tasks on the status topic: the worker's status table's changelog, which a
    restarted worker restores before it takes input."""
    topic = Topics.from_settings(settings).task_status.name
    producer = AIOKafkaProducer(
        **client_options(settings.kafka),
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    ids: list[str] = []
    try:
        pending = []
        for tid, value in _statuses(count, uuid.uuid4().hex[:6]):
            ids.append(tid)
            pending.append(await producer.send(topic, value, key=tid.encode()))
            if len(pending) >= CHUNK:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return ids


async def sample_kept(base_url: str, ids: list[str], sample: int = 50) -> float:
    """Percentage of a random sample of ``ids`` the worker's status route still knows."""
    chosen = random.Random(8).sample(ids, min(sample, len(ids)))
    async with httpx.AsyncClient(timeout=10.0) as client:
        found = [(await client.get(f"{base_url}/tasks/{tid}/")).status_code == 200 for tid in chosen]
    return 100.0 * sum(found) / max(len(found), 1)


def fill_redis_results(url: str, count: int, prefix: str) -> list[str]:
    """``count`` finished-job results under ``prefix`` (a Celery result or an RQ job hash)."""
    client = redis.Redis.from_url(url)
    keys = [f"{prefix}{uuid.uuid4().hex}" for _ in range(count)]
    done_at = datetime.now(UTC).isoformat()
    for start in range(0, count, CHUNK):
        with client.pipeline(transaction=False) as pipe:
            for key in keys[start : start + CHUNK]:
                if prefix.startswith("rq:"):
                    pipe.hset(key, mapping={"status": "finished", "ended_at": done_at, "origin": "fill"})
                else:
                    value = {"status": "SUCCESS", "result": None, "date_done": done_at, "task_id": key}
                    pipe.set(key, orjson.dumps(value), ex=86_400)
            pipe.execute()
    return keys


def redis_kept(url: str, keys: list[str], sample: int = 50) -> float:
    client = redis.Redis.from_url(url)
    chosen = random.Random(8).sample(keys, min(sample, len(keys)))
    return 100.0 * int(client.exists(*chosen)) / max(len(chosen), 1)


def delete_keys(url: str, keys: list[str]) -> None:
    client = redis.Redis.from_url(url)
    for start in range(0, len(keys), CHUNK):
        client.unlink(*keys[start : start + CHUNK])
