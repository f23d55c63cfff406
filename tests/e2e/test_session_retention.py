"""A quiet session's working state is deleted after the session retention; the learner's memory stays."""

from __future__ import annotations

from typing import Any

import httpx

from kafka_io.topic_admin import ensure_topics
from schemas.topics import Topics
from tests.support import api_client, running_worker, tombstoned, wait_for

TURN = {
    "topic": "gravity",
    "session_id": "s-quiet",
    "user_id": "u-quiet",
    "user_input": "Things fall because the Earth pulls them, for example an apple from a tree.",
}


async def test_a_quiet_sessions_state_is_deleted_and_the_learners_memory_kept(settings_factory: Any) -> None:
    settings = settings_factory(session_retention_s=5, table_expiry_interval_s=0.5, consolidate_every_turns=1)
    topics = Topics.from_settings(settings)
    await ensure_topics(settings.kafka, topics.all())
    session_changelogs = [
        topics.transcripts_changelog.name,
        topics.consolidation_changelog.name,
        topics.session_analysis_changelog.name,
    ]

    async def memory(api: httpx.AsyncClient) -> httpx.Response | None:
        r = await api.get("/learners/u-quiet/memory")
        return r if r.status_code == 200 else None

    with running_worker(settings) as worker:
        async with api_client(settings) as api:
            assert (await api.post("/chat", json=TURN)).status_code == 200
            remembered = await wait_for(lambda: memory(api), timeout=30)
            for changelog in session_changelogs:
                await wait_for(
                    lambda c=changelog: tombstoned(settings.kafka_bootstrap, c, "s-quiet"), timeout=30
                )
            analysis = await api.get("/sessions/s-quiet/analysis")
            kept = await api.get("/learners/u-quiet/memory")
        assert worker.alive() and "Crashed" not in worker.tail(1000)
    assert analysis.status_code == 404 and analysis.json()["reason"] == "unknown_session"
    assert kept.status_code == 200 and kept.json() == remembered.json()
