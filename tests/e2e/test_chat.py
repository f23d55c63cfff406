"""The seed service's routes through the whole pipeline: /chat, /memorize, session tasks."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from foundation.settings import Settings
from schemas import decode, task_id
from schemas.topics import Topics
from tests.support import api_client, read_topic, running_worker, wait_for

EXPLANATION = (
    "Photosynthesis is kind of how plants eat. "  # a hedge the tutor should ask about
    "The chlorophyll takes sunlight and somehow turns it into sugar."
)


async def _completed(api: httpx.AsyncClient, tid: str) -> bool:
    r = await api.get(f"/task/{tid}")
    return r.status_code == 200 and r.json()["status"] == "completed"


async def test_chat_replies_with_questions_and_its_background_task_completes(settings: Settings) -> None:
    with running_worker(settings):
        async with api_client(settings) as api:
            r = await api.post(
                "/chat", json={"topic": "photosynthesis", "session_id": "s-chat", "user_input": EXPLANATION}
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["session_id"] == "s-chat"
            assert 1 <= len(body["questions"]) <= 3
            assert body["language"] == "en"
            assert body["background_task_id"] == body["task_ids"][0]
            assert body["background_task_id"] == task_id("transcript", body["event_id"])
            assert body["short_term_memory"][0] == {"role": "user", "content": EXPLANATION}
            assert body["short_term_memory"][1]["role"] == "assistant"
            await wait_for(lambda: _completed(api, body["background_task_id"]), timeout=30)

            # The event on the topic carries the questions the learner got.
            topic = Topics.from_settings(settings).conversations.name
            [record] = await read_topic(settings.kafka_bootstrap, topic, count=1)
            assert record.key == b"s-chat"
            assert decode(record.value).data.questions == body["questions"]


async def test_short_term_memory_is_bounded_to_the_configured_turns(settings_factory) -> None:
    s = settings_factory(memory_turns=2)
    from kafka_io.topic_admin import ensure_topics

    await ensure_topics(s.kafka, Topics.from_settings(s).all())
    memory: list = []
    async with api_client(s) as api:
        for n in range(4):
            r = await api.post(
                "/chat",
                json={
                    "topic": "tides",
                    "session_id": "s-mem",
                    "user_input": f"turn {n}: the moon pulls water",
                    "short_term_memory": memory,
                },
            )
            assert r.status_code == 200, r.text
            memory = r.json()["short_term_memory"]
    users = [m["content"] for m in memory if m["role"] == "user"]
    assert users == ["turn 2: the moon pulls water", "turn 3: the moon pulls water"]
    assert len(memory) == 4


async def test_chinese_explanations_get_chinese_questions(settings: Settings) -> None:
    async with api_client(settings) as api:
        r = await api.post(
            "/chat",
            json={
                "topic": "光合作用",
                "session_id": "s-zh",
                "user_input": "光合作用大概就是植物利用叶绿素把阳光变成糖。",
            },
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["language"] == "zh"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in q) for q in body["questions"])


async def test_memorize_is_accepted_and_its_task_completes(settings: Settings) -> None:
    history = [
        {"role": "user", "content": "Tides happen because the moon pulls the oceans."},
        {"role": "assistant", "content": "Why are there two high tides a day?"},
    ]
    with running_worker(settings):
        async with api_client(settings) as api:
            r = await api.post(
                "/memorize", json={"topic": "tides", "conversation_history": history, "session_id": "s-m"}
            )
            assert r.status_code == 202, r.text
            body = r.json()
            assert body["message"] and body["task_id"] == body["task_ids"][0]
            await wait_for(lambda: _completed(api, body["task_id"]), timeout=30)


async def test_session_tasks_lists_every_task_with_an_aggregate_state(settings: Settings) -> None:
    with running_worker(settings):
        async with api_client(settings) as api:
            ids = []
            for n in range(3):
                r = await api.post(
                    "/chat",
                    json={"topic": "tides", "session_id": "s-agg", "user_input": f"idea {n} because moon"},
                )
                ids += r.json()["task_ids"]

            async def all_done() -> dict | None:
                r = await api.get("/sessions/s-agg/tasks")
                assert r.status_code == 200, r.text
                return r.json() if r.json()["state"] == "completed" else None

            body = await wait_for(all_done, timeout=30)
            other = (await api.get("/sessions/s-nobody/tasks")).json()
    # The turns' own tasks, and the tasks of their results that name the session (analysis.completed).
    assert set(ids) <= {t["task_id"] for t in body["tasks"]}
    assert body["counts"] == {"completed": len(body["tasks"])}
    assert other == {"session_id": "s-nobody", "state": "empty", "counts": {}, "tasks": []}


async def test_a_retried_chat_with_the_same_idempotency_key_publishes_once(settings: Settings) -> None:
    request = {"topic": "tides", "session_id": "s-idem", "user_input": "the moon pulls the sea"}
    headers = {"Idempotency-Key": "retry-123"}
    async with api_client(settings) as api:
        first, second = await asyncio.gather(
            api.post("/chat", json=request, headers=headers), api.post("/chat", json=request, headers=headers)
        )
        third = await api.post("/chat", json=request, headers=headers)
        other_body = await api.post("/chat", json={**request, "user_input": "different"}, headers=headers)
        fresh = await api.post("/chat", json=request, headers={"Idempotency-Key": "retry-124"})
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.json() == second.json() == third.json()
    assert other_body.status_code == 422 and other_body.json()["reason"] == "idempotency_key"
    assert fresh.json()["event_id"] != first.json()["event_id"]
    topic = Topics.from_settings(settings).conversations.name
    records = await read_topic(settings.kafka_bootstrap, topic, count=3, timeout=5)
    assert sorted(decode(r.value).id for r in records) == sorted(
        [first.json()["event_id"], fresh.json()["event_id"]]
    )


async def test_readyz_reports_each_dependency_and_the_worker_never_decides(settings: Settings) -> None:
    async with api_client(settings) as api:
        without_worker = await api.get("/readyz")
        with running_worker(settings):
            ready = await api.get("/readyz")
            metrics = (await api.get("/metrics")).text
    # No worker: still ready (the API can publish), the worker's absence reported.
    assert without_worker.status_code == 200, without_worker.text
    assert without_worker.json()["status"] == "ready" and without_worker.json()["degraded"] is True
    assert without_worker.json()["checks"]["broker"] == "ok"
    assert without_worker.json()["checks"]["topics"] == "ok"
    assert "no worker answers" in without_worker.json()["checks"]["worker"]
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "checks": {"broker": "ok", "topics": "ok", "worker": "ok"},
        "degraded": False,
    }
    assert "\nfeynman_api_worker_ready 1.0\n" in metrics


async def test_metrics_count_requests_and_published_events(settings: Settings) -> None:
    async with api_client(settings) as api:
        await api.post("/chat", json={"topic": "t", "session_id": "s-met", "user_input": "because reasons"})
        text = (await api.get("/metrics")).text
    assert 'feynman_events_published_total{type="chat.turn"} 1.0' in text
    assert 'feynman_api_requests_total{method="POST",route="/chat",status="200"} 1.0' in text
    assert "feynman_api_request_seconds_bucket" in text


async def test_conversation_text_never_reaches_the_logs_at_info(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my-very-private-explanation-4711 because"
    caplog.set_level(logging.INFO)
    async with api_client(settings) as api:
        r = await api.post("/chat", json={"topic": "privacy", "session_id": "s-log", "user_input": secret})
        bad = await api.post("/events", json={"type": "chat.turn", "v": 1, "data": {"user_input": secret}})
    assert r.status_code == 200 and bad.status_code == 422
    assert caplog.records, "nothing was logged at all: the check would be vacuous"
    assert all("4711" not in record.getMessage() for record in caplog.records)
