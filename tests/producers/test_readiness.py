"""Readiness (issue 13): the API is ready when it can publish; a worker behind or absent is reported."""

from __future__ import annotations

from foundation.settings import Settings
from tests.support import api_client


async def test_without_a_worker_the_api_is_ready_and_says_the_worker_is_absent(settings: Settings) -> None:
    async with api_client(settings) as api:
        ready = await api.get("/readyz")
        metrics = (await api.get("/metrics")).text
        lag = (await api.get("/ui/api/lag")).json()
        # And the API accepts work meanwhile: it waits in Kafka for a worker.
        chat = await api.post("/chat", json={"topic": "t", "session_id": "s-ready", "user_input": "because"})
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["degraded"] is True
    assert body["checks"]["broker"] == "ok" and body["checks"]["topics"] == "ok"
    # The route needs no key: it names the failing check, never where the worker listens.
    assert body["checks"]["worker"].startswith("no worker answers (")
    assert settings.worker_base_url not in ready.text
    assert "\nfeynman_api_worker_ready 0.0\n" in metrics
    # The view needs a key (in production) and says where it asked.
    assert lag["worker"].startswith(f"no worker answers at {settings.worker_base_url}")
    assert chat.status_code == 200, chat.text


async def test_without_its_topics_the_api_is_not_ready(settings_factory) -> None:
    s = settings_factory()  # topics never created
    async with api_client(s) as api:
        r = await api.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "not_ready"
    assert r.json()["checks"]["broker"] == "ok"
    assert r.json()["checks"]["topics"].startswith("missing: ")
    assert r.json()["degraded"] is True


async def test_the_openapi_document_says_the_worker_does_not_decide_readiness(settings: Settings) -> None:
    async with api_client(settings) as api:
        doc = (await api.get("/openapi.json")).json()
    responses = doc["paths"]["/readyz"]["get"]["responses"]
    assert set(responses) == {"200", "503"}
    assert "not in the status code" in responses["200"]["description"]
    for code in ("200", "503"):
        assert responses[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Readiness"
        }
    assert "degraded" in doc["components"]["schemas"]["Readiness"]["properties"]
