"""Consolidation with the LLM backend: a real worker, a real broker, a real OpenAI-compatible server."""

from __future__ import annotations

import httpx

from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from schemas import decode
from schemas.topics import Topics
from tests.e2e.test_memory import memory_of
from tests.fakes.openai_server import FakeOpenAIServer, ScriptedResponse
from tests.support import api_client, read_topic, running_worker, wait_for

HISTORY = [
    {"role": "user", "content": "Gravity is kind of a force. Things fall because the Earth pulls them down."},
    {"role": "assistant", "content": "What do you mean by a force?"},
    {"role": "user", "content": "A force is a push or a pull, like when you push a door open."},
]
SUMMARY = ["The learner sees gravity as the Earth pulling things.", "They defined force as a push or pull."]


async def task(api: httpx.AsyncClient, task_id: str) -> dict | None:
    body = (await api.get(f"/task/{task_id}")).json()
    return body if body.get("status") == "completed" else None


async def memorize(api: httpx.AsyncClient, name: str) -> str:
    """POST /memorize for session ``s-<name>`` of learner ``u-<name>``; the consolidation task's id."""
    body = {"topic": "gravity", "session_id": f"s-{name}", "user_id": f"u-{name}"}
    r = await api.post("/memorize", json={**body, "conversation_history": HISTORY})
    assert r.status_code == 202, r.text
    return str(r.json()["task_ids"][1])


async def test_a_session_is_summarised_by_the_llm_after_a_429_pause_and_the_call_is_metered(
    settings_factory, openai_server: FakeOpenAIServer
) -> None:
    # No client-side retries: the 429 fails the attempt, the runtime retries the task after
    # about 1 s, and only the rate limiter's pause can hold the retry back for the 3 s asked.
    settings: Settings = settings_factory(
        llm_base_url=openai_server.base_url,
        llm_model="gpt-4o-mini",
        llm_max_retries=0,
        llm_limits={"gpt-4o-mini": {"rpm": 100, "tpm": 100_000}},
    )
    openai_server.enqueue(ScriptedResponse(status=429, headers={"Retry-After": "3"}, body={"error": {}}))
    openai_server.reply(
        '{"summary": ["' + '", "'.join(SUMMARY) + '"]}', prompt_tokens=120, completion_tokens=30
    )
    topics = Topics.from_settings(settings)
    await ensure_topics(settings.kafka, topics.all())
    with running_worker(settings):
        # The API makes no LLM call for /memorize; it gets no backend, so every request is the worker's.
        async with api_client(settings.model_copy(update={"llm_base_url": None})) as api:
            consolidation_id = await memorize(api, "llm")
            memory = await wait_for(lambda: memory_of(api, "u-llm", 1), timeout=60)
            status = await wait_for(lambda: task(api, consolidation_id), timeout=30)

    assert memory["summary"] == SUMMARY and memory["summary_source"] == "llm"
    assert 0 <= memory["mastery"] <= 1 and memory["sessions"] == 1  # scored by the local engine
    refused, served = openai_server.requests
    assert served.at - refused.at >= 2.9
    assert (
        served.json["model"] == "gpt-4o-mini"
        and "Learner: A force is a push" in served.json["messages"][1]["content"]
    )
    assert status["retry_count"] == 1
    [usage] = [
        decode(r.value) for r in await read_topic(settings.kafka_bootstrap, topics.llm_usage.name, count=1)
    ]
    assert usage.type == "llm.usage"
    assert usage.data.model_dump(exclude={"latency_ms"}) == {
        "model": "gpt-4o-mini",
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "session_id": "s-llm",
        "user_id": "u-llm",
        "purpose": "consolidation",
    }


async def test_when_the_llm_refuses_for_good_the_memory_keeps_the_local_summary(
    settings_factory, openai_server: FakeOpenAIServer
) -> None:
    settings: Settings = settings_factory(llm_base_url=openai_server.base_url, llm_max_retries=0)
    openai_server.fail(401)  # a wrong key: no retry would fix it
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    with running_worker(settings):
        async with api_client(settings.model_copy(update={"llm_base_url": None})) as api:
            consolidation_id = await memorize(api, "401")
            memory = await wait_for(lambda: memory_of(api, "u-401", 1), timeout=60)
            status = await wait_for(lambda: task(api, consolidation_id), timeout=30)

    assert memory["summary_source"] == "local" and memory["summary"]
    assert status["retry_count"] == 0 and len(openai_server.requests) == 1
