"""Who may do what (issue 14): key roles, the OpenAPI document, /readyz, login limits, bind address.

Served like tests/producers/test_validation_without_broker.py: no lifespan, no broker,
services through ``app.dependency_overrides``. Nothing listens on port 9, so a route
reaching for Kafka or a worker finds nobody, quickly.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from foundation.errors import ConfigError
from foundation.settings import Settings
from producers.app import create_app
from producers.dependencies import (
    get_read_model,
    get_read_model_consumer,
    get_status_client,
)
from producers.status_client import StatusClient
from producers.webview.auth import ViewAuth, view_auth
from producers.webview.consumer import ReadModelConsumer
from producers.webview.read_model import ReadModel
from producers.webview.throttle import FAILURES_PER_WINDOW
from schemas import ChatTurn, DeadLetter, Topics, encode, new_envelope
from tests.producers.offline import TURN, AckingPublisher, publishing_overrides, returning

ADMIN = "admin-" + "a" * 32
WRITER = "writer-" + "w" * 32
READER = "reader-" + "r" * 32
NOBODY = "nobody-" + "n" * 32
SECRET = "s" * 32
NOWHERE = "127.0.0.1:9"


@dataclass(frozen=True)
class Served:
    settings: Settings
    app: FastAPI
    client: httpx.AsyncClient
    publisher: AckingPublisher
    model: ReadModel


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "env": "production",
        "api_keys": [ADMIN],
        "api_keys_write": [WRITER],
        "api_keys_read": [READER],
        "ui_session_secret": SECRET,
        "kafka_bootstrap": NOWHERE,
        "worker_url": f"http://{NOWHERE}",
        "data_dir": tmp_path,
    }
    return Settings(**{**fields, **overrides})


@asynccontextmanager
async def _serve(settings: Settings, client: tuple[str, int] = ("127.0.0.1", 123)) -> AsyncIterator[Served]:
    app = create_app(settings)
    publisher = AckingPublisher(settings)
    model = ReadModel.from_settings(settings)
    status_client = StatusClient(settings.worker_base_url)
    app.dependency_overrides.update(
        {
            **publishing_overrides(settings, publisher),
            get_read_model: returning(model),
            get_read_model_consumer: returning(ReadModelConsumer(settings, model)),  # never started
            get_status_client: returning(status_client),
            view_auth: returning(ViewAuth(settings)),
        }
    )
    transport = httpx.ASGITransport(app=app, client=client)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield Served(settings, app, http, publisher, model)
    finally:
        await status_client.close()


@pytest.fixture
async def prod(tmp_path: Path) -> AsyncIterator[Served]:
    async with _serve(_settings(tmp_path)) as served:
        yield served


def _key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


# --- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "reason"), [(None, "unauthorized"), (NOBODY, "unauthorized")])
async def test_a_missing_or_unknown_key_is_a_401_on_every_protected_route(
    prod: Served, key: str | None, reason: str
) -> None:
    headers = _key(key) if key else {}
    for method, path in [("POST", "/events"), ("GET", "/metrics"), ("GET", "/task/t-1"), ("GET", "/costs")]:
        r = await prod.client.request(method, path, json=TURN if method == "POST" else None, headers=headers)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["reason"] == reason
    assert prod.publisher.sent == []


@pytest.mark.parametrize("path", ["/events", "/chat", "/memorize"])
async def test_a_read_key_may_not_publish(prod: Served, path: str) -> None:
    body = {
        "/events": TURN,
        "/chat": {"topic": "t", "session_id": "s-1", "user_input": "because"},
        "/memorize": {"topic": "t", "conversation_history": []},
    }[path]
    r = await prod.client.post(path, json=body, headers=_key(READER))
    assert r.status_code == 403, r.text
    assert r.json()["reason"] == "forbidden"
    assert "read" in r.json()["detail"] and "write" in r.json()["detail"]
    assert prod.publisher.sent == []


@pytest.mark.parametrize("key", [WRITER, ADMIN])
async def test_a_write_or_admin_key_publishes(prod: Served, key: str) -> None:
    r = await prod.client.post("/events", json=TURN, headers=_key(key))
    assert r.status_code == 202, r.text
    assert [e["type"] for e in prod.publisher.sent] == ["chat.turn"]


@pytest.mark.parametrize("key", [READER, WRITER, ADMIN])
async def test_every_role_reads(prod: Served, key: str) -> None:
    assert (await prod.client.get("/metrics", headers=_key(key))).status_code == 200
    letters = await prod.client.get("/ui/api/dead-letters", headers=_key(key))
    assert letters.status_code == 200, letters.text
    session = await prod.client.get("/ui/api/session", headers=_key(key))
    role = {READER: "read", WRITER: "write", ADMIN: "admin"}[key]
    assert session.json()["role"] == role


def _dead_letter(served: Served) -> str:
    """A dead letter of a chat turn, in the view's read model; its id."""
    turn = new_envelope(ChatTurn(session_id="s1", topic="t", user_input="hi"))
    letter = DeadLetter(
        reason="handler_failed",
        error="boom",
        origin_topic=Topics.from_settings(served.settings).conversations.name,
        origin_partition=0,
        origin_offset=0,
        original_b64=base64.b64encode(encode(turn)).decode(),
        original_key="s1",
    )
    served.model.apply_dead_letter(encode(new_envelope(letter)), partition=0, offset=0)
    [kept] = served.model.dead_letters.newest(1)
    return kept.id


@pytest.mark.parametrize("key", [READER, WRITER])
async def test_only_an_admin_key_requeues_dead_letters(prod: Served, key: str) -> None:
    letter_id = _dead_letter(prod)
    refused = await prod.client.post(
        "/ui/api/dead-letters/requeue", json={"ids": [letter_id]}, headers=_key(key)
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["reason"] == "forbidden"
    assert prod.publisher.sent == []

    done = await prod.client.post(
        "/ui/api/dead-letters/requeue", json={"ids": [letter_id]}, headers=_key(ADMIN)
    )
    assert done.status_code == 200, done.text
    assert done.json()["requeued"] == 1 and len(prod.publisher.sent) == 1


async def test_a_session_has_its_keys_role_so_a_read_login_cannot_requeue(prod: Served) -> None:
    letter_id = _dead_letter(prod)
    login = await prod.client.post("/ui/api/login", json={"api_key": READER})
    assert login.status_code == 204, login.text
    cookie = login.headers["set-cookie"].split(";")[0]
    prod.client.cookies.clear()  # the cookie is Secure: httpx keeps it off plain http, send it by hand
    headers = {"Cookie": cookie}
    session = (await prod.client.get("/ui/api/session", headers=headers)).json()
    assert session["via"] == "session" and session["role"] == "read"
    assert (await prod.client.get("/ui/api/tasks", headers=headers)).status_code == 200
    requeue = await prod.client.post(
        "/ui/api/dead-letters/requeue",
        json={"ids": [letter_id]},
        headers={**headers, "X-CSRF-Token": session["csrf_token"]},
    )
    assert requeue.status_code == 403 and requeue.json()["reason"] == "forbidden"
    assert prod.publisher.sent == []


async def test_an_admin_session_requeues(prod: Served) -> None:
    letter_id = _dead_letter(prod)
    login = await prod.client.post("/ui/api/login", json={"api_key": ADMIN})
    headers = {"Cookie": login.headers["set-cookie"].split(";")[0]}
    prod.client.cookies.clear()
    token = (await prod.client.get("/ui/api/session", headers=headers)).json()["csrf_token"]
    done = await prod.client.post(
        "/ui/api/dead-letters/requeue", json={"ids": [letter_id]}, headers={**headers, "X-CSRF-Token": token}
    )
    assert done.status_code == 200 and done.json()["requeued"] == 1


async def test_in_development_everything_is_open_and_the_view_is_admin(tmp_path: Path) -> None:
    async with _serve(_settings(tmp_path, env="development")) as dev:
        assert (await dev.client.post("/events", json=TURN)).status_code == 202
        assert (await dev.client.get("/ui/api/session")).json()["role"] == "admin"


# --- the OpenAPI document --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
async def test_in_production_the_api_description_needs_a_key_of_any_role(prod: Served, path: str) -> None:
    refused = await prod.client.get(path)
    assert refused.status_code == 401 and refused.json()["reason"] == "unauthorized"
    wrong = await prod.client.get(path, headers=_key(NOBODY))
    assert wrong.status_code == 401
    allowed = await prod.client.get(path, headers=_key(READER))
    assert allowed.status_code == 200, allowed.text


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
async def test_in_development_the_api_description_is_open(tmp_path: Path, path: str) -> None:
    async with _serve(_settings(tmp_path, env="development")) as dev:
        assert (await dev.client.get(path)).status_code == 200


async def test_the_document_names_403_and_429_where_they_can_happen(prod: Served) -> None:
    paths = (await prod.client.get("/openapi.json", headers=_key(READER))).json()["paths"]
    for path in ("/events", "/chat", "/memorize"):
        assert "403" in paths[path]["post"]["responses"], path
    assert "403" in paths["/ui/api/dead-letters/requeue"]["post"]["responses"]
    login = paths["/ui/api/login"]["post"]["responses"]
    assert "429" in login and "Retry-After" in login["429"]["headers"]
    assert "403" not in paths["/task/{task_id}"]["get"]["responses"]
    assert "internal_type" in paths["/events"]["post"]["responses"]["422"]["description"]


async def test_every_route_that_is_not_a_read_documents_its_403(prod: Served) -> None:
    """A new publishing or admin route must come with its role check; reads and login need none."""
    paths = (await prod.client.get("/openapi.json", headers=_key(READER))).json()["paths"]
    unchecked = {("/ui/api/login", "post"), ("/ui/api/logout", "post")}
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method != "get" and (path, method) not in unchecked:
                assert "403" in operation["responses"], (method, path)


# --- /readyz ---------------------------------------------------------------------------------


async def test_readyz_names_the_failing_checks_without_any_address(prod: Served) -> None:
    r = await prod.client.get("/readyz")
    assert r.status_code == 503, r.text
    checks = r.json()["checks"]
    assert checks["broker"].startswith("no broker answers (") and checks["topics"] == "unknown"
    assert checks["worker"].startswith("no worker answers (")
    assert "127.0.0.1" not in r.text and ":9" not in r.text
    # The authenticated view still says where it looked.
    lag = await prod.client.get("/ui/api/lag", headers=_key(READER))
    assert NOWHERE in lag.json()["worker"]


# --- login attempts --------------------------------------------------------------------------


async def test_failed_logins_from_one_address_are_limited_even_for_a_valid_key_after(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with _serve(settings) as served:
        for _ in range(FAILURES_PER_WINDOW):
            wrong = await served.client.post("/ui/api/login", json={"api_key": NOBODY})
            assert wrong.status_code == 401 and wrong.json()["reason"] == "invalid_api_key"
        for key in (NOBODY, ADMIN):
            limited = await served.client.post("/ui/api/login", json={"api_key": key})
            assert limited.status_code == 429, limited.text
            assert limited.json()["reason"] == "too_many_attempts"
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
            assert "set-cookie" not in limited.headers


async def test_the_login_limit_is_per_client_address(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with _serve(settings, client=("10.0.0.1", 1)) as first:
        for _ in range(FAILURES_PER_WINDOW):
            await first.client.post("/ui/api/login", json={"api_key": NOBODY})
        assert (await first.client.post("/ui/api/login", json={"api_key": ADMIN})).status_code == 429
        elsewhere = httpx.ASGITransport(app=first.app, client=("10.0.0.2", 1))
        async with httpx.AsyncClient(transport=elsewhere, base_url="http://api") as other:
            assert (await other.post("/ui/api/login", json={"api_key": ADMIN})).status_code == 204


# --- where the API listens -------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "api.example.org"])
def test_development_refuses_to_listen_beyond_loopback(tmp_path: Path, host: str) -> None:
    with pytest.raises(ConfigError, match="FEYNMAN_API_HOST"):
        create_app(_settings(tmp_path, env="development", api_host=host))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_development_listens_on_loopback(tmp_path: Path, host: str) -> None:
    create_app(_settings(tmp_path, env="development", api_host=host))


def test_production_may_listen_anywhere(tmp_path: Path) -> None:
    create_app(_settings(tmp_path, api_host="0.0.0.0"))


def test_production_with_only_lesser_keys_starts_and_without_any_refuses(tmp_path: Path) -> None:
    create_app(_settings(tmp_path, api_keys=[], api_keys_write=[], api_keys_read=[READER]))
    with pytest.raises(ConfigError, match="FEYNMAN_API_KEYS"):
        create_app(_settings(tmp_path, api_keys=[], api_keys_write=[], api_keys_read=[]))
