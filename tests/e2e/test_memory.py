"""The consolidation task type: sessions digested into a learner's long-term memory per topic."""

from __future__ import annotations

import httpx

from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from schemas import decode
from schemas.topics import Topics
from tests.support import api_client, read_topic, running_worker, wait_for

TURNS = [
    "Gravity is kind of a force. Things fall because the Earth pulls them down.",
    "Mass is how much stuff an object has. For example a rock has more mass than a feather.",
    "Because the Earth has a huge mass, it pulls everything towards its centre.",
]


async def memory_of(api: httpx.AsyncClient, user: str, sessions: int) -> dict | None:
    r = await api.get(f"/learners/{user}/memory", params={"topic": "Gravity"})
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    [memory] = r.json()["topics"].values()
    return memory if memory["sessions"] >= sessions else None


async def test_every_k_turns_and_at_the_end_a_session_becomes_long_term_memory(settings_factory) -> None:
    settings: Settings = settings_factory(consolidate_every_turns=2)
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    with running_worker(settings):
        async with api_client(settings) as api:
            assert (await api.get("/learners/u-mem/memory")).json()["reason"] == "unknown_memory"
            for text in TURNS[:2]:
                r = await api.post(
                    "/chat",
                    json={"topic": "gravity", "session_id": "s-m1", "user_id": "u-mem", "user_input": text},
                )
                assert r.status_code == 200, r.text
            # Two turns: the first consolidation (every 2 turns) is one session in memory.
            first = await wait_for(lambda: memory_of(api, "u-mem", 1), timeout=30)
            assert first["summary"] and first["last_session_id"] == "s-m1"

            # A second session, ended after one turn: consolidated at its end.
            r = await api.post(
                "/chat",
                json={"topic": "gravity", "session_id": "s-m2", "user_id": "u-mem", "user_input": TURNS[2]},
            )
            assert r.status_code == 200
            ended = await api.post(
                "/events",
                json={
                    "type": "conversation.ended",
                    "v": 1,
                    "data": {"session_id": "s-m2", "topic": "gravity", "user_id": "u-mem"},
                },
            )
            assert ended.status_code == 202, ended.text
            second = await wait_for(lambda: memory_of(api, "u-mem", 2), timeout=30)
            other_topic = await api.get("/learners/u-mem/memory", params={"topic": "chemistry"})

    assert second["last_session_id"] == "s-m2" and second["sessions"] == 2
    assert [s["session_id"] for s in second["summaries"]] == ["s-m1", "s-m2"]
    assert 0 <= second["mastery"] <= 1 and "before_last" not in second
    assert other_topic.status_code == 404
    records = await read_topic(
        settings.kafka_bootstrap, Topics.from_settings(settings).memories.name, count=2
    )
    assert {r.key for r in records} == {b"u-mem"}
    assert {decode(r.value).data.trigger for r in records} == {"chat.turn", "conversation.ended"}


async def test_a_session_gone_quiet_is_consolidated_without_waiting_for_its_end(settings_factory) -> None:
    settings: Settings = settings_factory(consolidate_every_turns=5, consolidate_idle_s=2)
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    with running_worker(settings):
        async with api_client(settings) as api:
            r = await api.post(
                "/chat",
                json={
                    "topic": "gravity",
                    "session_id": "s-idle",
                    "user_id": "u-idle",
                    "user_input": TURNS[0],
                },
            )
            assert r.status_code == 200, r.text
            memory = await wait_for(lambda: memory_of(api, "u-idle", 1), timeout=30)
    assert memory["last_session_id"] == "s-idle"
    [record] = await read_topic(
        settings.kafka_bootstrap, Topics.from_settings(settings).memories.name, count=1
    )
    consolidated = decode(record.value).data
    assert (consolidated.trigger, consolidated.session_id) == ("conversation.ended", "s-idle")
