"""The analysis task type: chat turns analysed per session, progress folded per learner."""

from __future__ import annotations

import httpx

from foundation.settings import Settings
from schemas import decode, task_id
from schemas.topics import Topics
from tests.support import api_client, read_topic, running_worker, wait_for

FIRST = "Photosynthesis is kind of how plants eat. The chlorophyll somehow turns sunlight into sugar."
SECOND = (
    "Chlorophyll is the green stuff in leaves that catches light, for example in a leaf. "
    "Because it catches light, the plant gets energy to build sugar from air and water."
)


async def _analysis(api: httpx.AsyncClient, session_id: str, turns: int) -> dict | None:
    r = await api.get(f"/sessions/{session_id}/analysis")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    body = r.json()
    return body if len(body["reports"]) >= turns else None


async def test_each_chat_turn_is_analysed_against_the_questions_of_the_turn_before(
    settings: Settings,
) -> None:
    with running_worker(settings):
        async with api_client(settings) as api:
            missing = await api.get("/sessions/s-none/analysis")
            assert missing.status_code == 404
            assert missing.json()["reason"] == "unknown_session"

            first = await api.post(
                "/chat",
                json={
                    "topic": "photosynthesis",
                    "session_id": "s-an",
                    "user_id": "u-an",
                    "user_input": FIRST,
                },
            )
            assert first.status_code == 200, first.text
            assert task_id("analysis", first.json()["event_id"]) in first.json()["task_ids"]
            await wait_for(lambda: _analysis(api, "s-an", 1), timeout=30)
            second = await api.post(
                "/chat",
                json={
                    "topic": "photosynthesis",
                    "session_id": "s-an",
                    "user_id": "u-an",
                    "user_input": SECOND,
                },
            )
            assert second.status_code == 200, second.text
            body = await wait_for(lambda: _analysis(api, "s-an", 2), timeout=30)

            async def progress() -> dict | None:
                r = await api.get("/learners/u-an/progress")
                return r.json() if r.status_code == 200 and r.json()["count"] == 2 else None

            learner = await wait_for(progress, timeout=30)

    one, two = (entry["report"] for entry in body["reports"])
    # The first turn had nothing to answer; the second is judged on the first turn's questions.
    assert one["answered_share"] is None and one["questions"] == []
    assert [q["question"] for q in two["questions"]] == first.json()["questions"]
    # The vague first turn (hedges, no example) scores below the plain, causal second one.
    assert one["hedge_count"] >= 1 and two["has_example"] and two["causal_links"] >= 1
    assert two["clarity"] > one["clarity"]
    assert learner["recent"] == [one["clarity"], two["clarity"]]
    assert learner["best_by_topic"] == {"photosynthesis": two["clarity"]}

    records = await read_topic(
        settings.kafka_bootstrap, Topics.from_settings(settings).analysis_results.name, count=2
    )
    assert {r.key for r in records} == {b"u-an"}
    events = [decode(r.value) for r in records]
    assert {e.type for e in events} == {"analysis.completed"}
    assert {e.data.turn_event_id for e in events} == {first.json()["event_id"], second.json()["event_id"]}
