"""The task runtime's own figures: ``feynman bench runtime``.

Two measurements, side by side in one run on one broker:

1. No-op events per second through the runtime (a worker with one no-op task
   type: decode, its status row acknowledged, acks in offset order) against
   raw aiokafka doing the least a durable consumer can (consume, produce one
   status record, commit) and against a bare Faust agent on the worker's own
   configuration (``benchmarks/compare/workers/faust_floor.py``): what Faust
   costs per event before any work, the floor under the runtime.
2. An LLM-like handler (sleeps 1-5 s, seeded) as the in-flight limit grows:
   tasks per second and the speed-up over one in flight, with a check that
   each session's tasks ran in the order they were published.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from compose.processes import Child, child_env, wait_http, worker_command
from foundation.settings import Settings
from kafka_io.connection import client_options
from kafka_io.topic_admin import ensure_topics
from kafka_io.topic_reading import reading_from_start
from schemas import ChatTurn, decode, encode, new_envelope
from schemas.topics import Topics

WORKER_APP = "benchmarks.compare.workers.faust_app"
FLOOR_APP = "benchmarks.compare.workers.faust_floor"
Progress = Callable[[str], None]
FLOOR_TAKE = 500


@dataclass(frozen=True, slots=True)
class ScalingPoint:
    in_flight: int
    tasks: int
    seconds: float
    order_violations: int

    @property
    def rate(self) -> float:
        return self.tasks / self.seconds


def deployment(bootstrap: str, data_dir: Path, port: int) -> Settings:
    name = f"rb{uuid.uuid4().hex[:8]}"
    settings = Settings(
        kafka_bootstrap=bootstrap,
        topic_prefix=name,
        app_id=name,
        data_dir=data_dir / name,
        worker_web_port=port,
        worker_session_timeout_s=10,
    )
    asyncio.run(ensure_topics(settings.kafka, Topics.from_settings(settings).all()))
    return settings


@contextmanager
def worker(settings: Settings, in_flight: int, app: str = WORKER_APP, **extra_env: str) -> Iterator[None]:
    env = {**child_env(settings), "FEYNMAN_BENCH_CONCURRENCY": str(in_flight), **extra_env}
    child = Child.spawn("worker", worker_command("warn", app), env, settings.data_dir / "logs")
    try:
        if not wait_http(f"{settings.worker_base_url}/health/", child, 120):
            raise RuntimeError(f"worker did not start:\n{child.tail(30)}")
        yield
    finally:
        child.stop()


async def publish(settings: Settings, turns: list[tuple[str, str]]) -> list[str]:
    """Publish (session, text) turns as fast as the producer allows; returns event ids."""
    producer = AIOKafkaProducer(
        **client_options(settings.kafka), acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        topic = Topics.from_settings(settings).conversations.name
        ids, sends = [], []
        for session, text in turns:
            envelope = new_envelope(ChatTurn(session_id=session, topic="bench", user_input=text))
            ids.append(envelope.id)
            sends.append(await producer.send(topic, encode(envelope), key=session.encode()))
        await asyncio.gather(*sends)
        return ids
    finally:
        await producer.stop()


async def completions(settings: Settings, count: int, timeout: float) -> dict[str, float]:
    """Event id -> completion time (status event time) of the first ``count`` completed tasks."""
    topic = Topics.from_settings(settings).task_status
    tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
    async with reading_from_start(settings.kafka, tps) as consumer:
        done: dict[str, float] = {}
        deadline = time.monotonic() + timeout
        while len(done) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(done)} of {count} tasks completed in {timeout:g} s")
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    change = decode(record.value).data
                    if change.status.value == "completed":
                        done[change.event_id] = change.at.timestamp()
        return done


async def records(settings: Settings, count: int, timeout: float) -> None:
    """Until ``count`` records are on the status topic (the Faust floor's copies)."""
    topic = Topics.from_settings(settings).task_status
    tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
    async with reading_from_start(settings.kafka, tps) as consumer:
        seen, deadline = 0, time.monotonic() + timeout
        while seen < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {seen} of {count} records arrived in {timeout:g} s")
            seen += sum(len(r) for r in (await consumer.getmany(timeout_ms=300)).values())


def _worker_rate(settings: Settings, events: int, done: Callable[..., Any]) -> float:
    """No-op events per second, publishing to the running worker until ``done`` saw them all."""
    turns = [(f"s{n % 200}", "sleep:0") for n in range(events)]

    async def run() -> float:
        started = time.perf_counter()
        waiting = asyncio.ensure_future(done(settings, events, timeout=600))
        await publish(settings, turns)
        await waiting
        return events / (time.perf_counter() - started)

    return asyncio.run(run())


def runtime_noop_rate(bootstrap: str, data_dir: Path, port: int, events: int) -> float:
    settings = deployment(bootstrap, data_dir, port)
    with worker(settings, in_flight=100):
        return _worker_rate(settings, events, completions)


def faust_floor_rate(bootstrap: str, data_dir: Path, port: int, events: int, take: int = 0) -> float:
    """A bare Faust agent on the same worker configuration (one event at a time, or ``take`` at once)."""
    settings = deployment(bootstrap, data_dir, port)
    with worker(settings, in_flight=1, app=FLOOR_APP, FEYNMAN_FLOOR_TAKE=str(take)):
        return _worker_rate(settings, events, records)


async def raw_aiokafka_rate(settings: Settings, events: int) -> float:
    """Consume, produce one status record per event (acked), commit: aiokafka's floor for the same job."""
    kafka = client_options(settings.kafka)
    topics = Topics.from_settings(settings)
    consumer = AIOKafkaConsumer(
        topics.conversations.name,
        **kafka,
        group_id=settings.app_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(**kafka, acks="all", enable_idempotence=True, linger_ms=5)
    await consumer.start()
    await producer.start()
    try:
        started = time.perf_counter()
        turns = [(f"s{n % 200}", "sleep:0") for n in range(events)]
        publishing = asyncio.ensure_future(publish(settings, turns))
        seen = 0
        while seen < events:
            batch = await consumer.getmany(timeout_ms=500)
            sends = []
            for records in batch.values():
                for record in records:
                    status = encode(decode(record.value))
                    sends.append(await producer.send(topics.task_status.name, status, key=record.key))
            await asyncio.gather(*sends)
            if batch:
                await consumer.commit()
            seen += sum(len(r) for r in batch.values())
        await publishing
        return events / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


def scaling_point(bootstrap: str, data_dir: Path, port: int, in_flight: int, seed: int) -> ScalingPoint:
    rng = random.Random(seed)
    tasks = max(8, 4 * in_flight)
    sessions = max(2, 2 * in_flight)
    turns = [(f"s{n % sessions}", f"sleep:{rng.uniform(1.0, 5.0):.3f}") for n in range(tasks)]
    settings = deployment(bootstrap, data_dir, port)
    with worker(settings, in_flight=in_flight):

        async def run() -> tuple[list[str], dict[str, float], float]:
            started = time.perf_counter()
            waiting = asyncio.ensure_future(completions(settings, tasks, timeout=900))
            ids = await publish(settings, turns)
            done = await waiting
            return ids, done, time.perf_counter() - started

        ids, done, seconds = asyncio.run(run())
    by_session: dict[str, list[float]] = defaultdict(list)
    for (session, _), event_id in zip(turns, ids, strict=True):
        by_session[session].append(done[event_id])
    violations = sum(1 for times in by_session.values() for a, b in itertools.pairwise(times) if b < a)
    return ScalingPoint(in_flight, tasks, seconds, violations)


def run(
    bootstrap: str,
    data_dir: Path,
    port: int,
    *,
    events: int,
    repeats: int,
    limits: tuple[int, ...],
    progress: Progress,
) -> str:
    """Both measurements; returns the report (Markdown)."""
    paths: dict[str, Callable[[], float]] = {
        "raw aiokafka: consume, produce a status, commit": lambda: asyncio.run(
            raw_aiokafka_rate(deployment(bootstrap, data_dir, port), events)
        ),
        "bare Faust agent, one event at a time": lambda: faust_floor_rate(bootstrap, data_dir, port, events),
        f"bare Faust agent, stream.take_events({FLOOR_TAKE})": lambda: faust_floor_rate(
            bootstrap, data_dir, port, events, take=FLOOR_TAKE
        ),
        "the runtime, 100 in flight": lambda: runtime_noop_rate(bootstrap, data_dir, port, events),
    }
    rates: dict[str, list[float]] = {path: [] for path in paths}
    for n in range(repeats):
        for path, measure in paths.items():
            progress(f"no-op run {n + 1}/{repeats}: {path}")
            rates[path].append(measure())
    raw = statistics.median(next(iter(rates.values())))
    lines = [
        f"### No-op events/s ({events} events, median of {repeats}, runs in brackets)",
        "",
        "| path | events/s | runs | / raw aiokafka |",
        "|---|---:|---|---:|",
    ]
    for path, runs in rates.items():
        median = statistics.median(runs)
        spread = ", ".join(f"{run:,.0f}" for run in runs)
        lines.append(f"| {path} | {median:,.0f} | {spread} | {median / raw:.2f} |")
    lines += [
        "",
        "### LLM-like handler (sleep 1-5 s), in-flight limit growing",
        "",
        "| in flight | tasks | seconds | tasks/s | speed-up vs 1 | per-session order violations |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    base: float | None = None
    for limit in limits:
        progress(f"LLM-like handler, {limit} in flight")
        point = scaling_point(bootstrap, data_dir, port, limit, seed=limit)
        base = base or point.rate
        lines.append(
            f"| {limit} | {point.tasks} | {point.seconds:.1f} | {point.rate:.2f} | "
            f"{point.rate / base:.1f}x | {point.order_violations} |"
        )
    return "\n".join(lines) + "\n"
