"""Schemathesis against the real API (uvicorn on a port, real broker, real worker).

Generated requests, valid and invalid, must never get a 5xx, and every
response must match what the OpenAPI document promises.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from compose.processes import free_ports
from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from producers.app import create_app
from schemas.topics import Topics
from tests.support import running_worker


@pytest.fixture(scope="module")
def api_url(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:10]}"
    worker_port, api_port = free_ports(2)
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=name,
        app_id=name,
        topic_partitions=2,
        data_dir=Path(tmp_path_factory.mktemp(name)),
        worker_web_port=worker_port,
        api_port=api_port,
    )
    asyncio.run(ensure_topics(settings.bootstrap_servers, Topics.from_settings(settings).all()))
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=api_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    with running_worker(settings):
        thread.start()
        url = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
        server.should_exit = True
        thread.join(10)


def test_no_generated_request_gets_a_5xx_or_an_undocumented_response(api_url: str) -> None:
    # The schemathesis CLI, not its pytest plugin (which does not load under pytest 9).
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{api_url}/openapi.json",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples",
            "30",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "20261128",
            "--suppress-health-check",
            "all",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
