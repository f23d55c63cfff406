"""The real services one run shares: a Kafka broker, a Redis server, a scratch directory."""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from compose.processes import free_port
from foundation.settings import Settings


@dataclass(frozen=True, slots=True)
class BenchEnv:
    bootstrap: str
    redis_url: str
    data_dir: Path
    partitions: int = 4

    def settings(self) -> Settings:
        """Settings of a fresh pipeline deployment: its own topics, group and worker port."""
        name = f"bench{uuid.uuid4().hex[:8]}"
        return Settings(
            kafka_bootstrap=self.bootstrap,
            topic_prefix=name,
            app_id=name,
            topic_partitions=self.partitions,
            data_dir=self.data_dir / name,
            worker_web_port=free_port(),
            # A killed worker's partitions move on quickly (the broker's minimum is 6 s).
            worker_session_timeout_s=8,
        )


@contextlib.contextmanager
def redis_server(data_dir: Path) -> Iterator[str]:
    """A private redis-server on a free port, with an append-only file fsynced every second.

    AOF with ``everysec`` is Redis' usual durable setting and the nearest to a
    single Kafka broker's (acknowledged = in the page cache, flushed soon after).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir)]
    argv += ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
    with (data_dir / "redis.log").open("ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start (log in {data_dir})") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout
    return next((w.split("=", 1)[1] for w in out.split() if w.startswith("v=")), out.strip())
