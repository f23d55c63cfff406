"""The Docker-free KRaft broker, run for real on free ports in a temp data dir.

The jars come from the shared cache (``Settings().cache_dir``), so Maven runs
once per machine and the module stays well under a minute.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from compose.local_broker import LocalBroker, broker_answers
from compose.processes import free_ports
from foundation.errors import BrokerError
from foundation.settings import Settings

CACHE = Settings().cache_dir


def make_broker(data_dir: Path, cache_dir: Path = CACHE, version: str = "4.1.1") -> LocalBroker:
    port, controller_port = free_ports(2)
    return LocalBroker(port, controller_port, data_dir, cache_dir, version)


async def create_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()


async def list_topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await admin.list_topics()
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    broker = make_broker(tmp_path_factory.mktemp("broker"))
    broker.start()
    yield broker
    broker.stop()


def test_a_started_broker_answers_and_reports_itself_running(broker: LocalBroker) -> None:
    assert broker_answers(broker.bootstrap)
    status = broker.status()
    assert status.running and status.answering
    assert status.pid is not None
    assert status.bootstrap == broker.bootstrap
    assert status.data_dir == broker.data_dir


def test_starting_a_running_broker_again_changes_nothing(broker: LocalBroker) -> None:
    pid = broker.status().pid
    began = time.monotonic()
    broker.start()
    assert time.monotonic() - began < 5
    assert broker.status().pid == pid


def test_another_process_finds_the_broker_by_its_pid_file(broker: LocalBroker) -> None:
    same = LocalBroker(broker.port, broker.controller_port, broker.data_dir, broker.cache_dir)
    assert same.status().pid == broker.status().pid


def test_a_restarted_broker_still_has_the_topics_created_before(broker: LocalBroker) -> None:
    topic = f"test-restart-{uuid.uuid4().hex[:8]}"
    asyncio.run(create_topic(broker.bootstrap, topic))

    assert broker.stop() is True
    assert not broker_answers(broker.bootstrap, timeout=1)
    assert broker.status().running is False
    assert broker.stop() is False

    broker.start()
    assert topic in asyncio.run(list_topics(broker.bootstrap))


def test_a_broker_that_exits_while_starting_reports_its_error_line(tmp_path: Path) -> None:
    broker = make_broker(tmp_path)
    broker.log_dir.mkdir()  # storage formatted for another node: the JVM refuses to start
    (broker.log_dir / "meta.properties").write_text(
        "version=1\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=2\n"
    )
    with pytest.raises(BrokerError, match=r"^broker exited while starting: .*Stored node id 2") as error:
        broker.start()
    assert "\n" not in str(error.value)
    assert not broker.pid_file.exists()


def test_a_broker_that_does_not_answer_in_time_is_stopped_and_reported(tmp_path: Path) -> None:
    broker = make_broker(tmp_path)
    with pytest.raises(BrokerError, match=r"^broker did not answer on 127\.0\.0\.1:\d+ within 0\.1s"):
        broker.start(timeout=0.1)
    assert broker.status().running is False
    assert not broker_answers(broker.bootstrap, timeout=1)


def test_a_port_taken_by_another_process_fails_start_in_one_line(tmp_path: Path) -> None:
    broker = make_broker(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", broker.port))
        squatter.listen()
        with pytest.raises(BrokerError) as error:
            broker.start()
    message = str(error.value)
    assert message == f"port {broker.port} is taken by another process; set FEYNMAN_BROKER_PORT"
    assert not broker.pid_file.exists()


def test_a_missing_java_fails_start_with_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BrokerError, match=r"^Java not found: install a JDK 17\+") as error:
        make_broker(tmp_path / "data").start()
    assert "\n" not in str(error.value)


def test_a_missing_maven_fails_the_jar_download_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    java = shutil.which("java")
    assert java is not None
    (tmp_path / "bin").mkdir()
    os.symlink(java, tmp_path / "bin" / "java")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(BrokerError, match=r"^Maven not found") as error:
        make_broker(tmp_path / "data", cache_dir=tmp_path / "cache").ensure_jars()
    assert "\n" not in str(error.value)


def test_a_failed_jar_download_says_why_and_leaves_no_half_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(BrokerError, match=r"Kafka 0\.0\.1 jars: .*0\.0\.1") as error:
        make_broker(tmp_path / "data", cache_dir=cache, version="0.0.1").ensure_jars()
    assert "\n" not in str(error.value)
    assert list(cache.iterdir()) == []


def test_nothing_listening_does_not_answer_and_says_so_fast() -> None:
    (port,) = free_ports(1)
    began = time.monotonic()
    assert broker_answers(f"127.0.0.1:{port}", timeout=1) is False
    assert time.monotonic() - began < 1.5


def test_the_broker_is_built_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        broker_port=19092,
        broker_controller_port=19093,
        data_dir=tmp_path,
        cache_dir=tmp_path / "cache",
        kafka_version="4.0.0",
        broker_heap="1g",
    )
    broker = LocalBroker.from_settings(settings)
    assert broker.bootstrap == "127.0.0.1:19092"
    assert (broker.controller_port, broker.heap) == (19093, "1g")
    assert broker.libs == tmp_path / "cache" / "kafka-4.0.0" / "libs"
    assert broker.data_dir == tmp_path.resolve()
