"""The whole pipeline over SASL_SSL (SCRAM-SHA-512, a self-signed CA), as against a managed cluster.

The broker is the local one started with ``secure=True`` (``feynman broker
start --secure``): it has no plaintext listener for clients, so everything
below that works went through TLS and the SCRAM user.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from compose.local_broker import LocalBroker
from compose.processes import free_ports
from foundation.settings import Settings
from schemas import task_id
from tests.support import api_client, child_env, running_worker, wait_for

EXPLANATION = "Plants take in light and water and make sugar, a bit like a solar-powered kitchen."


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    port, controller_port = free_ports(2)
    broker = LocalBroker(
        port, controller_port, tmp_path_factory.mktemp("secure-kafka"), Settings().cache_dir, secure=True
    )
    broker.start(timeout=120)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def secure_settings(secure_broker: LocalBroker, settings_factory: Callable[..., Settings]) -> Settings:
    env = secure_broker.secrets.env(secure_broker.bootstrap)
    return settings_factory(
        kafka_bootstrap=env["FEYNMAN_KAFKA_BOOTSTRAP"],
        kafka_security_protocol=env["FEYNMAN_KAFKA_SECURITY_PROTOCOL"],
        kafka_sasl_mechanism=env["FEYNMAN_KAFKA_SASL_MECHANISM"],
        kafka_sasl_username=env["FEYNMAN_KAFKA_SASL_USERNAME"],
        kafka_sasl_password=env["FEYNMAN_KAFKA_SASL_PASSWORD"],
        kafka_ssl_cafile=Path(env["FEYNMAN_KAFKA_SSL_CAFILE"]),
    )


def feynman(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, configured by ``settings`` (and ``env`` on top)."""
    return subprocess.run(
        [sys.executable, "-m", "feynman.cli", *args],
        capture_output=True,
        text=True,
        env={**child_env(settings), **env},
        timeout=120,
    )


async def _status(api: httpx.AsyncClient, tid: str) -> dict[str, Any] | None:
    r = await api.get(f"/task/{tid}")
    return r.json() if r.status_code == 200 and r.json()["status"] == "completed" else None


async def test_a_chat_turn_completes_and_replay_and_export_work_over_sasl_ssl(
    secure_settings: Settings,
) -> None:
    created = feynman(secure_settings, "topics", "create")
    assert created.returncode == 0, created.stderr
    with running_worker(secure_settings):
        async with api_client(secure_settings) as api:
            r = await api.post(
                "/chat",
                json={
                    "topic": "photosynthesis",
                    "session_id": "s-secure",
                    "user_id": "u-secure",
                    "user_input": EXPLANATION,
                },
            )
            assert r.status_code == 200, r.text
            event_id = r.json()["event_id"]
            for task_type in ("transcript", "analysis"):
                await wait_for(lambda t=task_type: _status(api, task_id(t, event_id)), timeout=60)

            replayed = feynman(
                secure_settings, "replay", "conversations", "--session", "s-secure", "--no-progress"
            )
            assert replayed.returncode == 0, replayed.stderr
            assert "sent 1 of" in replayed.stdout, replayed.stdout

    exported = feynman(secure_settings, "export", "--user", "u-secure", "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    assert EXPLANATION in exported.stdout


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"FEYNMAN_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT", "FEYNMAN_KAFKA_SSL_CAFILE": ""},
            "a listener that wants TLS or SASL closes a plaintext client",
        ),
        ({"FEYNMAN_KAFKA_SASL_PASSWORD": "not-the-password"}, "refused the SCRAM-SHA-512 credentials"),
    ],
    ids=["plaintext", "wrong-password"],
)
def test_a_plaintext_client_and_a_wrong_password_are_refused_in_one_line(
    secure_settings: Settings, env: dict[str, str], says: str
) -> None:
    refused = feynman(secure_settings, "topics", "create", **env)
    assert refused.returncode != 0
    lines = [line for line in refused.stderr.splitlines() + refused.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert says in lines[0]
    assert secure_settings.kafka_sasl_password is not None
    assert secure_settings.kafka_sasl_password.get_secret_value() not in lines[0]
