"""Schemathesis against the real API (uvicorn on a port, real broker, real worker).

Generated requests, valid and invalid, must never get a 5xx, and every
response must match what the OpenAPI document promises. In production mode,
with a read key and with a write key, no request is accepted without a key or
with a wrong one (``ignored_auth``) and no write with a read key.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from compose.processes import free_ports
from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from producers.app import create_app
from schemas.topics import Topics
from tests.support import running_worker

READ_KEY = "r" * 16 + uuid.uuid4().hex
WRITE_KEY = "w" * 16 + uuid.uuid4().hex


@contextmanager
def serving(kafka_bootstrap: str, data_dir: Path, **fields: Any) -> Iterator[str]:
    """The API on a port (uvicorn in a thread) and a worker, on fresh topics; yields the base URL."""
    name = f"t{uuid.uuid4().hex[:10]}"
    worker_port, api_port = free_ports(2)
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=name,
        app_id=name,
        topic_partitions=2,
        data_dir=data_dir / name,
        worker_web_port=worker_port,
        api_port=api_port,
        **fields,
    )
    asyncio.run(ensure_topics(settings.kafka, Topics.from_settings(settings).all()))
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


@pytest.fixture(scope="module")
def api_url(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(kafka_bootstrap, tmp_path_factory.mktemp("dev")) as url:
        yield url


@pytest.fixture(scope="module")
def production_url(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    keys = {
        "api_keys_read": [READ_KEY],
        "api_keys_write": [WRITE_KEY],
        "ui_session_secret": "s" * 32,
        "worker_api_key": "k" * 32,
    }
    with serving(kafka_bootstrap, tmp_path_factory.mktemp("prod"), env="production", **keys) as url:
        yield url


def schemathesis_run(location: str, *options: str, env: dict[str, str] | None = None) -> str:
    """The schemathesis CLI (its pytest plugin does not load under pytest 9); returns its output."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            location,
            *options,
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
        timeout=900,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return result.stdout


def test_no_generated_request_gets_a_5xx_or_an_undocumented_response(api_url: str) -> None:
    schemathesis_run(
        f"{api_url}/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--max-examples",
        "30",
    )


@pytest.mark.parametrize("role", ["read", "write"])
def test_in_production_no_request_passes_without_its_key_and_a_read_key_writes_nothing(
    production_url: str, role: str, tmp_path: Path
) -> None:
    url = production_url
    key = READ_KEY if role == "read" else WRITE_KEY
    schema = tmp_path / "openapi.json"
    schema.write_bytes(httpx.get(f"{url}/openapi.json", headers={"X-API-Key": key}, timeout=10).content)
    checks = "not_a_server_error,ignored_auth" + (",no_write_with_a_read_key" if role == "read" else "")
    out = schemathesis_run(
        str(schema),
        "--url",
        url,
        "--header",
        f"X-API-Key: {key}",
        "--checks",
        checks,
        "--max-examples",
        "60",
        env={"SCHEMATHESIS_HOOKS": "tests.producers.fuzz_hooks"},
    )
    cases = [int(n) for n in re.findall(r"(\d+) (?:generated|test cases)", out)]
    assert cases and max(cases) >= 1000, out[-3000:]
