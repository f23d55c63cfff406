"""Raw aiokafka: the same broker, no framework (produce → consume → produce a status)."""

from __future__ import annotations

import sys
import uuid
from importlib.metadata import version

import orjson
from aiokafka import AIOKafkaProducer

from benchmarks.compare.env import BenchEnv
from benchmarks.compare.jobs import Completion, Job
from benchmarks.compare.kafka_completions import TopicCompletions
from benchmarks.compare.systems.base import WorkerProcess, bounded
from benchmarks.compare.systems.processes import spawn
from compose.processes import Child
from foundation.settings import KafkaConnection
from kafka_io.topic_admin import ensure_topics
from schemas.topics import TopicSpec


def _spec(name: str, partitions: int) -> TopicSpec:
    return TopicSpec(name, partitions, 1, "delete", 24 * 3600 * 1000, "benchmark: raw aiokafka")


class RawKafka(WorkerProcess):
    name = "raw aiokafka"
    durable = True

    def __init__(self, env: BenchEnv) -> None:
        self._env = env
        self._prefix = ""
        self._producer: AIOKafkaProducer | None = None
        self._completions: TopicCompletions | None = None
        self._worker: Child | None = None
        self._concurrency = 1

    async def start(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._prefix = f"raw{uuid.uuid4().hex[:8]}"
        jobs, status = _spec(f"{self._prefix}.jobs", self._env.partitions), _spec(f"{self._prefix}.status", 1)
        await ensure_topics(KafkaConnection(bootstrap=(self._env.bootstrap,)), [jobs, status])
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._env.bootstrap, acks="all", enable_idempotence=True, linger_ms=0
        )
        await self._producer.start()
        self._completions = TopicCompletions(self._env.bootstrap, status.name, _parse)
        await self._completions.start()
        await self.start_worker()

    async def start_worker(self) -> None:
        env = {
            "BENCH_BOOTSTRAP": self._env.bootstrap,
            "BENCH_JOBS_TOPIC": f"{self._prefix}.jobs",
            "BENCH_STATUS_TOPIC": f"{self._prefix}.status",
            "BENCH_GROUP": self._prefix,
            "BENCH_CONCURRENCY": str(self._concurrency),
        }
        argv = [sys.executable, "-m", "benchmarks.compare.workers.raw_kafka"]
        self._worker = spawn("raw-kafka-worker", argv, env, self._env.data_dir / self._prefix)

    async def submit(self, job: Job) -> None:
        assert self._producer is not None
        value = orjson.dumps({"id": job.id, "sleep_s": job.sleep_s})
        await self._producer.send_and_wait(f"{self._prefix}.jobs", value, key=job.session.encode())

    async def submit_many(self, jobs: list[Job]) -> None:  # type: ignore[override]
        await bounded([self.submit(job) for job in jobs], 512)

    async def drain(self) -> list[Completion]:
        assert self._completions is not None
        return self._completions.drain()

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        if self._completions is not None:
            await self._completions.stop()
        if self._producer is not None:
            await self._producer.stop()

    def concurrency_note(self, concurrency: int) -> str:
        return (
            f"1 process, {concurrency} jobs in flight (asyncio), per-key order within a fetched batch, "
            "commit after each batch's statuses"
        )

    def version(self) -> str:
        return f"aiokafka {version('aiokafka')}"


def _parse(raw: bytes) -> Completion:
    obj = orjson.loads(raw)
    return Completion(obj["id"], obj["at"])
