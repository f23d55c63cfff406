"""The API's answers to bad requests, with no broker anywhere.

The app is served over ``httpx.ASGITransport``, which runs no lifespan, so no
Kafka producer, read-model consumer or worker client is ever built. Routes get
their services through ``app.dependency_overrides`` instead: a publisher whose
Kafka acknowledges at once, canned tutor questions, the real in-process caches.
A request must be refused with the same status and ``reason`` as against the
real stack, and nothing may be published for it. Answers given before any
service is asked (oversized body, malformed JSON, unknown route) are checked on
the app with no override at all.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute

from foundation.settings import Settings
from producers import dependencies
from producers.app import create_app
from producers.routes_chat import router as chat_router
from producers.routes_events import router as events_router
from producers.routes_learning import router as learning_router
from producers.routes_ops import router as ops_router
from producers.routes_sessions import router as sessions_router
from producers.routes_tasks import router as tasks_router
from producers.webview import routes_auth, routes_data
from schemas.events import EXTERNAL_EVENT_TYPES
from schemas.registry import REGISTRY
from tests.producers.offline import TURN, AckingPublisher, publishing_overrides
from tests.schemas.samples import SAMPLES

T = TypeVar("T")

# Every router whose routes are in the OpenAPI document (the page's router is not).
ROUTERS: tuple[APIRouter, ...] = (
    chat_router,
    events_router,
    tasks_router,
    sessions_router,
    learning_router,
    ops_router,
    routes_auth.router,
    routes_data.router,
)
MAX_BODY_BYTES = 4096
CHAT = {"topic": "photosynthesis", "session_id": "s-1", "user_input": "Plants eat sunlight."}
HISTORY = [{"role": "user", "content": "Plants eat light."}]
MEMORIZE = {"topic": "photosynthesis", "conversation_history": HISTORY}


@dataclass(frozen=True)
class OfflineApi:
    client: httpx.AsyncClient
    publisher: AckingPublisher


@pytest.fixture
def offline_settings(tmp_path: Path) -> Settings:
    # Nothing listens on port 9 here: were anything to reach for Kafka, the request would be a 503.
    return Settings(
        env="development",
        kafka_bootstrap="127.0.0.1:9",
        data_dir=tmp_path,
        max_body_bytes=MAX_BODY_BYTES,
    )


@asynccontextmanager
async def _serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        yield client


@pytest.fixture
async def bare(offline_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app without lifespan and without overrides: any route that asked for a service would fail."""
    async with _serving(create_app(offline_settings)) as client:
        yield client


@pytest.fixture
async def api(offline_settings: Settings) -> AsyncIterator[OfflineApi]:
    app = create_app(offline_settings)
    publisher = AckingPublisher(offline_settings)
    app.dependency_overrides.update(publishing_overrides(offline_settings, publisher))
    async with _serving(app) as client:
        yield OfflineApi(client, publisher)


async def test_the_fakes_carry_valid_requests_so_refusals_below_are_validations(api: OfflineApi) -> None:
    event = await api.client.post("/events", json=TURN)
    chat = await api.client.post("/chat", json=CHAT)
    memorize = await api.client.post("/memorize", json=MEMORIZE)
    assert event.status_code == 202, event.text
    assert event.json()["task_ids"]
    assert chat.status_code == 200, chat.text
    assert chat.json()["questions"] == ["What do you mean by 'photosynthesis'?"]
    assert memorize.status_code == 202, memorize.text
    assert [e["type"] for e in api.publisher.sent] == ["chat.turn", "chat.turn", "memory.requested"]


@pytest.mark.parametrize(
    ("body", "reason", "fragment"),
    [
        (
            {"type": "chat.turn", "v": 1, "data": {"session_id": "s1", "topic": "t"}},
            "invalid_payload",
            "user_input: Field required",
        ),
        ({"type": "chat.turn", "v": 2, "data": TURN["data"]}, "unknown_version", "no version 2"),
        ({"type": "chat.tweet", "v": 1, "data": {}}, "unknown_type", "unknown event type 'chat.tweet'"),
        ({**TURN, "ts": "yesterday"}, "bad_field", "not an RFC 3339 timestamp"),
        ({**TURN, "data": {**TURN["data"], "user_input": ""}}, "invalid_payload", "user_input"),
        ({"v": 1, "data": {}}, "invalid_request", "body.type: Field required"),
        ({**TURN, "v": 0}, "invalid_request", "body.v: Input should be greater than or equal to 1"),
        ({**TURN, "colour": "red"}, "invalid_request", "body.colour: Extra inputs are not permitted"),
    ],
)
async def test_an_event_that_is_not_a_valid_envelope_is_a_422_and_nothing_is_published(
    api: OfflineApi, body: dict[str, Any], reason: str, fragment: str
) -> None:
    r = await api.client.post("/events", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == reason
    assert fragment in r.json()["detail"]
    assert api.publisher.sent == []


# Every registered type an outside producer may not send, read from the registry so a new one is covered.
INTERNAL_TYPES = sorted(set(REGISTRY.types()) - EXTERNAL_EVENT_TYPES)


def _sample_event(event_type: str) -> dict[str, Any]:
    """An envelope body of ``event_type``'s newest version with a realistic, valid payload."""
    sample = next(p for name, p in SAMPLES.items() if name.split("/")[0] == event_type)
    latest = REGISTRY.latest(event_type)
    assert latest is not None
    return {"type": event_type, "v": latest[0], "data": sample.model_dump(mode="json", exclude_none=True)}


def test_the_registry_holds_internal_types_and_every_external_one() -> None:
    assert set(INTERNAL_TYPES) >= {"table.expiry", "task.status", "task.retry", "dead.letter", "llm.usage"}
    assert sorted(EXTERNAL_EVENT_TYPES) == ["chat.turn", "conversation.ended", "memory.requested"]


@pytest.mark.parametrize("event_type", INTERNAL_TYPES)
async def test_an_event_type_only_the_pipeline_writes_is_a_422_and_nothing_is_published(
    api: OfflineApi, event_type: str
) -> None:
    # A valid event of the type: the refusal is for the type, not the data.
    r = await api.client.post("/events", json=_sample_event(event_type))
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "internal_type"
    assert repr(event_type) in r.json()["detail"]
    assert api.publisher.sent == []


@pytest.mark.parametrize("event_type", sorted(EXTERNAL_EVENT_TYPES))
async def test_every_external_event_type_is_published(api: OfflineApi, event_type: str) -> None:
    r = await api.client.post("/events", json=_sample_event(event_type))
    assert r.status_code == 202, r.text
    assert [e["type"] for e in api.publisher.sent] == [event_type]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({k: v for k, v in CHAT.items() if k != "user_input"}, ["body", "user_input"]),
        ({**CHAT, "user_input": "   "}, ["body", "user_input"]),
        ({**CHAT, "session_id": "has space"}, ["body", "session_id"]),
        ({**CHAT, "topic": ""}, ["body", "topic"]),
        ({**CHAT, "short_term_memory": [{"role": "system", "content": "x"}]}, ["body", "short_term_memory"]),
        ({**CHAT, "mood": "happy"}, ["body", "mood"]),
    ],
)
async def test_an_invalid_chat_turn_is_a_422_naming_the_field(
    api: OfflineApi, body: dict[str, Any], loc: list[str | int]
) -> None:
    r = await api.client.post("/chat", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "invalid_request"
    assert r.json()["errors"][0]["loc"][: len(loc)] == loc
    assert api.publisher.sent == []


async def test_a_memorize_request_without_a_topic_is_a_422(api: OfflineApi) -> None:
    r = await api.client.post("/memorize", json={"conversation_history": HISTORY})
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "invalid_request"
    assert r.json()["errors"][0]["loc"] == ["body", "topic"]
    assert api.publisher.sent == []


@pytest.mark.parametrize("path", ["/events", "/chat"])
async def test_a_malformed_idempotency_key_is_a_422(api: OfflineApi, path: str) -> None:
    body = TURN if path == "/events" else CHAT
    r = await api.client.post(path, json=body, headers={"Idempotency-Key": "has a space"})
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "idempotency_key"
    assert api.publisher.sent == []


async def test_a_reused_idempotency_key_with_another_body_is_a_422(api: OfflineApi) -> None:
    first = await api.client.post("/events", json=TURN, headers={"Idempotency-Key": "k-1"})
    other = {**TURN, "data": {**TURN["data"], "user_input": "something else"}}
    second = await api.client.post("/events", json=other, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 202, first.text
    assert second.status_code == 422, second.text
    assert second.json()["reason"] == "idempotency_key"
    assert len(api.publisher.sent) == 1


async def test_an_oversized_body_is_a_413_before_any_service_is_asked(bare: httpx.AsyncClient) -> None:
    big = {**TURN, "data": {**TURN["data"], "user_input": "x" * (MAX_BODY_BYTES + 1)}}
    for path in ("/events", "/chat"):
        r = await bare.post(path, json=big)
        assert r.status_code == 413, r.text
        assert f"exceeds {MAX_BODY_BYTES} bytes" in r.json()["detail"]
        assert r.json()["reason"] == "body_too_large"


async def test_malformed_json_is_a_422_before_any_service_is_asked(bare: httpx.AsyncClient) -> None:
    r = await bare.post("/events", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["reason"] == "invalid_request"
    assert r.json()["errors"][0]["type"] == "json_invalid"


async def test_an_unknown_route_is_a_404(bare: httpx.AsyncClient) -> None:
    r = await bare.post("/event", json=TURN)
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found", "reason": "not_found"}


def test_no_service_dependency_reaches_the_openapi_document(offline_settings: Settings) -> None:
    """Providers take only the Request, so they add no parameter; checked at the root and in the document."""
    members = inspect.getmembers(dependencies, inspect.iscoroutinefunction)
    providers = {fn for name, fn in members if name.startswith("get_")}
    for provider in providers:
        d = get_dependant(path="", call=provider)
        assert not (d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params)
        assert d.request_param_name == "request", provider.__name__

    doc = create_app(offline_settings).openapi()
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    checked: set[tuple[str, str]] = set()
    used: set[str] = set()
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            names = {dep.name for dep in route.dependant.dependencies if dep.call in providers and dep.name}
            used |= names
            for method in (m.lower() for m in route.methods):
                operation = doc["paths"][route.path_format][method]
                assert names.isdisjoint(p["name"] for p in operation.get("parameters", [])), route.path
                checked.add((route.path_format, method))
    assert checked == documented
    assert {"publisher", "settings", "lookup", "model"} <= used
