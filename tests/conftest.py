"""Session-wide real services: one Kafka broker for the whole run.

Here (no Docker engine) it is the project's own local KRaft broker on free
ports; where a Docker engine answers, testcontainers' Kafka container; and
``FEYNMAN_TEST_BOOTSTRAP`` points the tests at a broker someone already runs.
Every test gets its own topic prefix and consumer group, so tests never see
each other's data.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from compose.local_broker import LocalBroker
from compose.processes import free_ports
from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics, raise_on_mismatch
from schemas.topics import Topics
from tests.fakes.openai_server import FakeOpenAIServer

KAFKA_IMAGE = "apache/kafka:4.1.1"


def _docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no engine"
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real Kafka broker, up for the whole session."""
    given = os.environ.get("FEYNMAN_TEST_BOOTSTRAP")
    if given:
        yield given
        return
    if _docker_engine_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    port, controller_port = free_ports(2)
    # Every test gets its own topics: thousands of partitions by the end of a
    # run, more than the default heap holds.
    broker = LocalBroker(
        port, controller_port, tmp_path_factory.mktemp("kafka"), Settings().cache_dir, heap="2g"
    )
    broker.start(timeout=120)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def settings_factory(kafka_bootstrap: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings with a fresh topic prefix, app id (consumer group) and ports."""

    def make(**overrides: Any) -> Settings:
        name = f"t{uuid.uuid4().hex[:10]}"
        worker_port, api_port = free_ports(2)
        fields: dict[str, Any] = {
            "kafka_bootstrap": kafka_bootstrap,
            "topic_prefix": name,
            "app_id": name,
            "topic_partitions": 4,
            "data_dir": tmp_path / name,
            "worker_web_port": worker_port,
            "api_port": api_port,
            # A killed worker's partitions move on quickly (the broker's minimum is 6 s).
            "worker_session_timeout_s": 8,
            **overrides,
        }
        return Settings(**fields)

    return make


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """Settings of a deployment whose topics exist."""
    s = settings_factory()
    reports = asyncio.run(ensure_topics(s.kafka, Topics.from_settings(s).all()))
    raise_on_mismatch(reports)
    return s


@pytest.fixture(scope="session")
def openai_server_session() -> Iterator[FakeOpenAIServer]:
    """One real OpenAI-compatible HTTP server on localhost for the session (the only fake: a hosted LLM)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def openai_server(openai_server_session: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """The session's server with an empty script and no recorded requests."""
    openai_server_session.reset()
    yield openai_server_session
    openai_server_session.reset()
