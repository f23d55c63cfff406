"""A hand-rolled aiokafka worker: consume a batch, run it, produce statuses, commit.

``python -m benchmarks.compare.workers.raw_kafka`` with ``BENCH_BOOTSTRAP``,
``BENCH_JOBS_TOPIC``, ``BENCH_STATUS_TOPIC``, ``BENCH_GROUP``,
``BENCH_CONCURRENCY``. Jobs of one key run one after another, keys run
concurrently up to the limit; offsets are committed only after the batch's
statuses were acknowledged (at-least-once).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord


async def run_key(
    records: list[ConsumerRecord], limit: asyncio.Semaphore, producer: AIOKafkaProducer, status_topic: str
) -> list[asyncio.Future[object]]:
    sent = []
    for record in records:
        job = orjson.loads(record.value)
        async with limit:
            if job["sleep_s"] > 0:
                await asyncio.sleep(job["sleep_s"])
        status = orjson.dumps({"id": job["id"], "status": "completed", "at": time.time()})
        sent.append(await producer.send(status_topic, status, key=record.key))
    return sent


async def main() -> None:
    env = os.environ
    consumer = AIOKafkaConsumer(
        env["BENCH_JOBS_TOPIC"],
        bootstrap_servers=env["BENCH_BOOTSTRAP"],
        group_id=env["BENCH_GROUP"],
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=8000,
        heartbeat_interval_ms=1000,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=env["BENCH_BOOTSTRAP"], acks="all", enable_idempotence=True, linger_ms=5
    )
    limit = asyncio.Semaphore(int(env.get("BENCH_CONCURRENCY", "1")))
    await producer.start()
    await consumer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=100, max_records=1000)
            by_key: dict[bytes | None, list[ConsumerRecord]] = defaultdict(list)
            for records in batch.values():
                for record in records:
                    by_key[record.key].append(record)
            if not by_key:
                continue
            runs = await asyncio.gather(
                *(run_key(rs, limit, producer, env["BENCH_STATUS_TOPIC"]) for rs in by_key.values())
            )
            await asyncio.gather(*(f for sent in runs for f in sent))
            await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(main())
