"""This pipeline: publish the event (as the API does) → Kafka → Faust worker → its status row."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import version

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from benchmarks.compare.env import BenchEnv
from benchmarks.compare.jobs import Completion, Job
from benchmarks.compare.kafka_completions import TopicCompletions
from benchmarks.compare.systems.base import WorkerProcess, bounded
from benchmarks.compare.systems.processes import spawn, wait_http_ok
from benchmarks.compare.workers.faust_app import TASK_TYPE
from compose.processes import Child
from foundation.settings import Settings
from kafka_io.connection import client_options
from kafka_io.topic_admin import ensure_topics
from producers.publisher import Publisher
from schemas.envelope import new_envelope
from schemas.events import ChatTurn
from schemas.tasks import task_id
from schemas.topics import Topics


async def wait_committed(settings: Settings, timeout: float, failed: Callable[[], object]) -> None:
    """Until the worker's group committed the input topic up to its end (or ``failed()`` is truthy)."""
    spec = Topics.from_settings(settings).conversations
    consumer = AIOKafkaConsumer(**client_options(settings.kafka))
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await consumer.start()
    await admin.start()
    try:
        # From the declared spec: a consumer that subscribed to nothing knows no
        # topic's partitions, and an empty list would count as done at once.
        tps = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            committed = await admin.list_consumer_group_offsets(settings.app_id)
            if all(end == 0 or (tp in committed and committed[tp].offset >= end) for tp, end in ends.items()):
                return
            if failed():
                raise RuntimeError(f"the worker failed: {failed()}")
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the worker did not commit its input within {timeout}s")
    finally:
        await admin.close()
        await consumer.stop()


WORKER_APP = "benchmarks.compare.workers.faust_app"


class Pipeline(WorkerProcess):
    name = "this pipeline"
    durable = True

    def __init__(self, env: BenchEnv, *, store: str | None = None) -> None:
        self._env = env
        self._store = store
        self._settings: Settings | None = None
        self._publisher: Publisher | None = None
        self._completions: TopicCompletions | None = None
        self._worker: Child | None = None
        self._concurrency = 1
        self._job_of: dict[str, str] = {}  # task id -> job id

    @property
    def settings(self) -> Settings:
        assert self._settings is not None
        return self._settings

    async def start(self, concurrency: int) -> None:
        self._concurrency = concurrency
        settings = self._env.settings()
        self._settings = settings.model_copy(update={"store": self._store}) if self._store else settings
        topics = Topics.from_settings(self.settings)
        await ensure_topics(self.settings.kafka, topics.all())
        self._publisher = Publisher(self.settings)
        await self._publisher.start()
        self._completions = TopicCompletions(
            self.settings.kafka_bootstrap, topics.task_status.name, self._parse
        )
        await self._completions.start()
        await self.start_worker()

    async def start_worker(self) -> None:
        argv = [sys.executable, "-m", "faust", "-A", WORKER_APP, "worker", "-l", "warn"]
        env = {**self.settings.as_env(), "FEYNMAN_BENCH_CONCURRENCY": str(self._concurrency)}
        self._worker = spawn("faust-worker", argv, env, self.settings.data_dir / "logs")
        # Recovering a big table may take minutes; /health/ answers 200 only after.
        await wait_http_ok(f"{self.settings.worker_base_url}/health/", self._worker, timeout=1800)

    def _parse(self, raw: bytes) -> Completion | None:
        if b'"completed"' not in raw:
            return None
        data = orjson.loads(raw).get("data", {})
        job = self._job_of.get(data.get("task_id", ""))
        if job is None or data.get("status") != "completed":
            return None
        return Completion(job, datetime.fromisoformat(data["at"]).timestamp())

    async def submit(self, job: Job) -> None:
        assert self._publisher is not None
        event = new_envelope(
            ChatTurn(session_id=job.session, topic="bench", user_input=f"sleep:{job.sleep_s}")
        )
        self._job_of[task_id(TASK_TYPE, event.id)] = job.id
        await self._publisher.publish(event)

    async def submit_many(self, jobs: list[Job]) -> None:  # type: ignore[override]
        # Many in flight at once, as many API requests would be; the idempotent
        # producer keeps each partition's order, so each session's order holds.
        await bounded([self.submit(job) for job in jobs], 512)

    async def settle(self) -> None:
        await wait_committed(
            self.settings, timeout=1800, failed=lambda: None if self._worker_alive() else "exited"
        )

    def _worker_alive(self) -> bool:
        return self._worker is not None and self._worker.alive()

    async def drain(self) -> list[Completion]:
        assert self._completions is not None
        return self._completions.drain()

    async def stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop(timeout=60)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        if self._completions is not None:
            await self._completions.stop()
        if self._publisher is not None:
            await self._publisher.stop()

    def concurrency_note(self, concurrency: int) -> str:
        return (
            f"1 Faust worker process, task type concurrency={concurrency} (asyncio), per-session order, "
            f"{self._env.partitions} partitions, store {self._store or self._env.settings().store}"
        )

    def version(self) -> str:
        return f"faust-streaming {version('faust-streaming')}, aiokafka {version('aiokafka')}"
