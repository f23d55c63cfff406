"""The vectors task type: a learner's explanations and summaries searchable by similarity."""

from __future__ import annotations

from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from schemas.topics import Topics
from tests.support import api_client, running_worker, wait_for

GRAVITY = "Gravity pulls things down because the Earth has a huge mass."
PLANTS = "Plants use chlorophyll to turn sunlight into sugar, for example in leaves."


async def test_explanations_and_summaries_are_found_by_similarity_for_their_learner_only(
    settings_factory,
) -> None:
    settings: Settings = settings_factory(consolidate_every_turns=1, vector_batch_ms=200)
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    with running_worker(settings):
        async with api_client(settings) as api:
            for session, topic, text in (("s-v1", "gravity", GRAVITY), ("s-v2", "plants", PLANTS)):
                r = await api.post(
                    "/chat",
                    json={"topic": topic, "session_id": session, "user_id": "u-vec", "user_input": text},
                )
                assert r.status_code == 200, r.text

            async def similar(q: str) -> dict | None:
                r = await api.get("/learners/u-vec/similar", params={"q": q, "k": 10})
                if r.status_code == 404:
                    return None
                assert r.status_code == 200, r.text
                # Two explanations and two session summaries (consolidated every turn).
                return r.json() if len(r.json()["matches"]) == 4 else None

            found = await wait_for(lambda: similar("why does the earth pull things with gravity"), timeout=30)
            other = await api.get("/learners/u-nobody/similar", params={"q": "gravity"})
            bad = await api.get("/learners/u-vec/similar", params={"q": "gravity", "k": 0})
            # Passes the API's own checks; the worker refuses it (U+001C is whitespace to str.strip).
            blank = await api.get("/learners/u-vec/similar", params={"q": "\x1c"})

    best = found["matches"][0]
    assert best["topic"] == "gravity" and best["user_id"] == "u-vec"
    assert {m["kind"] for m in found["matches"]} == {"explanation", "summary"}
    assert found["matches"][-1]["topic"] == "plants"
    assert other.status_code == 404 and other.json()["reason"] == "unknown_learner"
    assert bad.status_code == 422
    assert blank.status_code == 422 and blank.json()["reason"] == "bad_query", blank.text
