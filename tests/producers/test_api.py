"""The HTTP API's answers to bad input, missing credentials and a missing broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from compose.local_broker import LocalBroker
from compose.processes import free_ports
from foundation.errors import ConfigError
from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from producers.app import create_app
from schemas.topics import Topics
from tests.support import api_client

TURN = {"type": "chat.turn", "v": 1, "data": {"session_id": "s1", "topic": "t", "user_input": "hi"}}
# API keys are at least 32 characters (foundation.settings.MIN_API_KEY_CHARS).
KEY = "k-123-" + "0" * 32


async def test_production_mode_requires_an_api_key_except_on_health(settings: Settings) -> None:
    prod = Settings(
        **{**settings.model_dump(), "env": "production", "api_keys": [KEY], "ui_session_secret": "s" * 32}
    )
    async with api_client(prod) as api:
        assert (await api.get("/healthz")).status_code == 200
        assert (await api.post("/events", json=TURN)).status_code == 401
        wrong = await api.post("/events", json=TURN, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401
        assert (await api.get("/task/x", headers={"X-API-Key": "nope"})).status_code == 401
        ok = await api.post("/events", json=TURN, headers={"X-API-Key": KEY})
        assert ok.status_code == 202, ok.text


def test_production_mode_without_keys_refuses_to_start(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="FEYNMAN_API_KEYS"):
        create_app(Settings(**{**settings.model_dump(), "env": "production", "api_keys": []}))


async def test_with_the_broker_down_publishing_is_a_503_with_retry_after(
    settings_factory: Callable[..., Settings],
) -> None:
    [closed_port] = free_ports(1)
    down = settings_factory(kafka_bootstrap=f"127.0.0.1:{closed_port}")
    async with api_client(down) as api:
        r = await api.post("/events", json=TURN)
        assert (await api.get("/healthz")).status_code == 200
    assert r.status_code == 503
    assert r.headers["Retry-After"].isdigit()
    assert r.json()["reason"] == "kafka_unavailable"


async def test_the_openapi_document_describes_the_routes_with_examples(settings: Settings) -> None:
    async with api_client(settings) as api:
        doc = (await api.get("/openapi.json")).json()
    assert {"/events", "/task/{task_id}", "/healthz"} <= set(doc["paths"])
    assert "503" in doc["paths"]["/events"]["post"]["responses"]
    assert doc["components"]["schemas"]["EventIn"]["examples"]
    assert doc["components"]["schemas"]["TaskRecord"]["examples"]


async def test_when_the_broker_stops_chat_is_a_503_and_it_recovers_when_the_broker_is_back(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """A broker of its own, stopped and restarted inside the test."""
    port, controller_port = free_ports(2)
    broker = LocalBroker(port, controller_port, tmp_path / "own-kafka", Settings().cache_dir)
    broker.start(timeout=120)
    try:
        s = settings_factory(kafka_bootstrap=broker.bootstrap)
        await ensure_topics(s.kafka, Topics.from_settings(s).all())
        body = {"topic": "t", "session_id": "s-down", "user_input": "because the broker"}
        async with api_client(s) as api:
            before = await api.post("/chat", json=body)
            broker.stop()
            during = await api.post("/chat", json=body)
            broker.start(timeout=120)
            after = None
            for _ in range(30):  # the producer reconnects on its own
                after = await api.post("/chat", json=body)
                if after.status_code == 200:
                    break
                await asyncio.sleep(1)
    finally:
        broker.stop()
    assert before.status_code == 200
    assert during.status_code == 503, during.text
    assert during.headers["Retry-After"].isdigit()
    assert during.json()["reason"] == "kafka_unavailable"
    assert after is not None and after.status_code == 200, after.text if after else None
