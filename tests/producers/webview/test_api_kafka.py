"""The web view's endpoints against a real broker: read model, lag, requeue, production auth."""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from compose.processes import free_ports
from foundation.errors import ConfigError
from foundation.settings import Settings
from producers.app import create_app
from schemas import DeadLetter, encode, new_envelope
from schemas.topics import Topics
from tests.support import api_client, read_topic, running_worker, wait_for

TURN = {"session_id": "s-view", "topic": "gravity", "user_input": "Things fall because the Earth pulls them."}
SECRET = "x" * 32
# API keys are at least 32 characters (foundation.settings.MIN_API_KEY_CHARS).
K1, K2, K3 = ("k-1-" + "1" * 32, "k-2-" + "2" * 32, "k-3-" + "3" * 32)


async def test_the_view_follows_a_task_and_the_group_lag_drops_to_zero(settings: Settings) -> None:
    conversations = Topics.from_settings(settings).conversations.name
    with running_worker(settings):
        async with api_client(settings) as api:
            accepted = await api.post("/events", json={"type": "chat.turn", "v": 1, "data": TURN})
            assert accepted.status_code == 202, accepted.text
            tid = accepted.json()["task_ids"][0]

            async def completed() -> dict | None:
                r = await api.get(f"/ui/api/tasks/{tid}")
                return r.json() if r.status_code == 200 and r.json()["status"] == "completed" else None

            record = await wait_for(completed, timeout=30)
            assert record["session_id"] == "s-view" and record["name"] == "transcript"

            page = (await api.get("/ui/api/tasks", params={"session_id": "s-view"})).json()
            # The turn's tasks and those of its analysis result, which names the session too.
            assert tid in {item["task_id"] for item in page["items"]} and page["total"] == len(page["items"])
            none = (await api.get("/ui/api/tasks", params={"session_id": "s-view", "status": "dead"})).json()
            assert none["total"] == 0

            summary = (await api.get("/ui/api/summary")).json()
            assert summary["by_type"]["transcript"] == 1 and summary["by_type"]["analysis"] == 1
            assert summary["by_status"]["completed"] >= 1

            stats = (await api.get("/ui/api/stats", params={"minutes": 5})).json()
            [latency] = [x for x in stats["latency"] if x["task_type"] == "transcript"]
            assert latency["count"] == 1
            assert 0 <= latency["p50_s"] <= latency["p99_s"] < 30
            assert stats["throughput"]["per_type"]["transcript"][-2:] in ([0, 1], [1, 0])

            async def caught_up() -> list[dict] | None:
                lag = (await api.get("/ui/api/lag")).json()
                assert lag["error"] is None and lag["group"] == settings.app_id
                rows = [p for p in lag["partitions"] if p["topic"] == conversations and p["end"]]
                done = rows and all(p["committed"] == p["end"] and p["lag"] == 0 for p in rows)
                return rows if done else None

            [row] = await wait_for(caught_up, timeout=30, interval=0.5)
            assert row["end"] == 1

            metrics = (await api.get("/metrics")).text
            assert 'feynman_view_tasks{status="completed",task_type="transcript"} 1.0' in metrics


async def publish_dead_letter(settings: Settings, original: bytes, origin_topic: str) -> None:
    letter = DeadLetter(
        reason="handler_failed",
        error="boom",
        origin_topic=origin_topic,
        origin_partition=0,
        origin_offset=7,
        original_b64=base64.b64encode(original).decode(),
        original_key="s-requeue",
        task_type="transcript",
        attempts=3,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = Topics.from_settings(settings).dead_letter.name
        await producer.send_and_wait(topic, encode(new_envelope(letter)), key=b"s-requeue")
    finally:
        await producer.stop()


async def test_requeue_sends_the_original_bytes_and_key_back_and_refuses_other_topics(
    settings: Settings,
) -> None:
    topics = Topics.from_settings(settings)
    original = b'{"id":"e-1","broken":'
    await publish_dead_letter(settings, original, topics.conversations.name)
    await publish_dead_letter(settings, b"x", topics.transcripts_changelog.name)
    async with api_client(settings) as api:

        async def two_letters() -> list[dict] | None:
            items = (await api.get("/ui/api/dead-letters")).json()["items"]
            return items if len(items) == 2 else None

        letters = await wait_for(two_letters)
        by_origin = {item["origin_topic"]: item for item in letters}
        good = by_origin[topics.conversations.name]
        assert good["original_preview"] == original.decode() and good["attempts"] == 3
        bad = by_origin[topics.transcripts_changelog.name]

        token = (await api.get("/ui/api/session")).json()["csrf_token"]
        forged = await api.post("/ui/api/dead-letters/requeue", json={"ids": [good["id"]]})
        assert forged.status_code == 403 and forged.json()["reason"] == "csrf"

        done = await api.post(
            "/ui/api/dead-letters/requeue",
            json={"ids": [good["id"], bad["id"], "no-such-id"]},
            headers={"X-CSRF-Token": token},
        )
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["requeued"] == 1 and body["unknown"] == ["no-such-id"] and body["failed"] == []
        assert [r["id"] for r in body["refused"]] == [bad["id"]]

    records = await read_topic(settings.kafka_bootstrap, topics.conversations.name, count=1)
    assert [(r.key, r.value) for r in records] == [(b"s-requeue", original)]


def test_production_without_a_session_secret_refuses_to_start(settings: Settings) -> None:
    prod = {**settings.model_dump(), "env": "production", "api_keys": [K1]}
    with pytest.raises(ConfigError, match="FEYNMAN_UI_SESSION_SECRET"):
        create_app(Settings(**prod))
    with pytest.raises(ConfigError, match="FEYNMAN_UI_SESSION_SECRET"):
        create_app(Settings(**{**prod, "ui_session_secret": "too-short"}))


async def test_in_production_the_cookie_is_signed_httponly_strict_and_ends_with_its_key(
    settings: Settings,
) -> None:
    prod = Settings(
        **{
            **settings.model_dump(),
            "env": "production",
            "api_keys": [K1, K2],
            "ui_session_secret": SECRET,
        }
    )
    async with api_client(prod) as api:
        page = await api.get("/ui/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/ui/login"
        assert (await api.get("/ui/login")).status_code == 200

        wrong = await api.post("/ui/api/login", json={"api_key": K3})
        assert wrong.status_code == 401 and wrong.json()["reason"] == "invalid_api_key"
        assert "set-cookie" not in wrong.headers

        login = await api.post("/ui/api/login", json={"api_key": K1})
        assert login.status_code == 204
        set_cookie = login.headers["set-cookie"]
        for flag in ("HttpOnly", "SameSite=strict", "Secure", "Path=/ui"):
            assert flag.lower() in set_cookie.lower(), set_cookie
        assert K1 not in set_cookie
        cookie = re.match(r"feynman_view=([^;]+)", set_cookie).group(1)  # type: ignore[union-attr]
        api.cookies.clear()  # httpx keeps Secure cookies off plain http; send it by hand
        headers = {"Cookie": f"feynman_view={cookie}"}

        session = await api.get("/ui/api/session", headers=headers)
        assert session.status_code == 200 and session.json()["via"] == "session"
        assert (await api.get("/ui/", headers=headers)).status_code == 200

        tampered = {"Cookie": f"feynman_view={cookie[:-2]}{'AA' if not cookie.endswith('AA') else 'BB'}"}
        assert (await api.get("/ui/api/tasks", headers=tampered)).status_code == 401

        requeue = await api.post("/ui/api/dead-letters/requeue", json={"ids": ["x"]}, headers=headers)
        assert requeue.status_code == 403 and requeue.json()["reason"] == "csrf"
        by_key = await api.post(
            "/ui/api/dead-letters/requeue", json={"ids": ["x"]}, headers={"X-API-Key": K2}
        )
        assert by_key.status_code == 200 and by_key.json()["unknown"] == ["x"]

    # The same secret, but k-1 no longer configured: its session is over.
    revoked = Settings(**{**prod.model_dump(), "api_keys": [K2]})
    async with api_client(revoked) as api:
        after = await api.get("/ui/api/session", headers=headers)
        assert after.status_code == 401 and after.json()["reason"] == "not_authenticated"


async def test_in_development_the_view_is_open_like_the_rest_of_the_api(settings: Settings) -> None:
    async with api_client(settings) as api:
        page = await api.get("/ui/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
        script = await api.get("/ui/static/app.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert (await api.get("/ui/api/session")).json()["via"] == "development"
        unknown = await api.get("/ui/api/tasks/nope")
        assert unknown.status_code == 404 and unknown.json()["reason"] == "unknown_task"
        bad = await api.get("/ui/api/tasks", params={"status": "sleeping"})
        assert bad.status_code == 422 and bad.json()["reason"] == "invalid_request"


def test_the_view_is_in_the_openapi_document(settings: Settings) -> None:
    paths = create_app(settings).openapi()["paths"]
    for path in ("/ui/api/tasks", "/ui/api/lag", "/ui/api/dead-letters", "/ui/api/dead-letters/requeue"):
        assert path in paths
    assert httpx  # the module's HTTP client is the one the API tests use


async def test_with_two_workers_the_view_and_the_owning_worker_answer_for_every_task(
    settings: Settings,
) -> None:
    other = settings.model_copy(update={"worker_web_port": free_ports(1)[0]})
    with running_worker(settings, name="w1") as w1, running_worker(other, name="w2") as w2:
        async with api_client(settings) as api:
            tids = []
            for n in range(16):
                turn = {**TURN, "session_id": f"s-two-{n}"}
                accepted = await api.post("/events", json={"type": "chat.turn", "v": 1, "data": turn})
                assert accepted.status_code == 202, accepted.text
                tids.append(accepted.json()["task_ids"][0])

            async def all_completed() -> list[dict] | None:
                records = [(await api.get(f"/ui/api/tasks/{tid}")) for tid in tids]
                done = [
                    r.json() for r in records if r.status_code == 200 and r.json()["status"] == "completed"
                ]
                return done if len(done) == len(tids) else None

            records = await wait_for(all_completed, timeout=60, interval=0.5)
            # Both workers ran some: the view reads every partition, whoever owns it.
            pids = {str(w1.process.pid), str(w2.process.pid)}
            assert {r["worker"].rsplit(":", 1)[-1] for r in records} == pids

            # A task's row lives with its input's partition: the worker that owns it answers.
            async def owners_answer() -> bool:
                for tid in tids:
                    answers = [
                        httpx.get(f"{w.worker_base_url}/tasks/{tid}/", timeout=10) for w in (settings, other)
                    ]
                    if not any(r.status_code == 200 and r.json()["status"] == "completed" for r in answers):
                        return False
                return True

            assert await wait_for(owners_answer, timeout=30, interval=0.5)
            for tid in tids:
                assert (await api.get(f"/task/{tid}")).status_code == 200
