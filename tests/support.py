"""Helpers the tests share: free ports, a worker subprocess, reading a topic."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI

from compose.processes import Child, api_command, child_env, wait_http, worker_command
from foundation.settings import KafkaConnection, Settings
from kafka_io.topic_reading import reading_from_start
from producers.app import create_app


@contextmanager
def running_worker(
    settings: Settings,
    *,
    name: str = "worker",
    ready_timeout: float = 90.0,
    app: str = "streams.app",
    env: dict[str, str] | None = None,
) -> Iterator[Child]:
    """A real ``faust -A <app> worker`` subprocess, ready when this yields."""
    child = Child.spawn(
        name, worker_command("info", app), {**child_env(settings), **(env or {})}, settings.data_dir / "logs"
    )
    try:
        wait_worker_ready(settings, child, ready_timeout)
        yield child
    finally:
        child.stop()


def wait_worker_ready(settings: Settings, child: Child, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    url = f"{settings.worker_base_url}/health/"
    while time.monotonic() < deadline:
        if not child.alive():
            raise AssertionError(f"worker exited early:\n{child.tail(40)}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"worker not ready after {timeout}s:\n{child.tail(40)}")


@contextmanager
def running_api(settings: Settings, *, name: str = "api", ready_timeout: float = 60.0) -> Iterator[str]:
    """A real ``uvicorn`` API subprocess (as ``feynman dev`` runs it); yields its base URL when it answers."""
    child = Child.spawn(
        name,
        api_command(settings.api_host, settings.api_port),
        child_env(settings),
        settings.data_dir / "logs",
    )
    url = f"http://{settings.api_host}:{settings.api_port}"
    try:
        if not wait_http(f"{url}/healthz", child, ready_timeout):
            raise AssertionError(f"API not up after {ready_timeout}s:\n{child.tail(40)}")
        yield url
    finally:
        child.stop()


@asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real FastAPI app in-process (lifespan run), talking to the real broker."""
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


async def read_topic(
    bootstrap: str, topic: str, *, count: int, timeout: float = 30.0
) -> list[ConsumerRecord]:
    """The first ``count`` records of every partition of ``topic`` (no consumer group)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    deadline = time.monotonic() + timeout
    tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    async with reading_from_start(KafkaConnection(bootstrap=(bootstrap,)), tps) as consumer:
        records: list[ConsumerRecord] = []
        while len(records) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
        return records


async def tombstoned(bootstrap: str, topic: str, key: str | bytes) -> bool:
    """Whether ``topic`` (a table's changelog) holds a delete of ``key``."""
    want = key.encode() if isinstance(key, str) else key
    records = await read_topic(bootstrap, topic, count=100_000, timeout=1.0)
    return any(r.key == want and r.value is None for r in records)


async def wait_for(probe: Any, *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Await ``probe()`` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def data_dir_for(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.mkdir(parents=True, exist_ok=True)
    return path
