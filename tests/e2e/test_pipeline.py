"""A conversation event travels API → Kafka → Faust worker → status table → API."""

from __future__ import annotations

import base64
import subprocess

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from compose.local_broker import LocalBroker
from foundation.errors import ConfigError
from foundation.settings import Settings
from producers.status_client import StatusClient
from schemas import ChatTurn, decode, encode, new_envelope, task_id
from schemas.topics import Topics
from tests.support import api_client, read_topic, running_worker, wait_for

TURN = {"session_id": "s-e2e", "topic": "gravity", "user_input": "Things fall because the Earth pulls them."}


async def test_a_published_chat_turn_goes_from_queued_to_completed(settings: Settings) -> None:
    with running_worker(settings):
        async with api_client(settings) as api:
            accepted = await api.post("/events", json={"type": "chat.turn", "v": 1, "data": TURN})
            assert accepted.status_code == 202, accepted.text
            body = accepted.json()
            tid = body["task_ids"][0]  # transcript: first of the turn's tasks
            assert tid == task_id("transcript", body["event_id"])

            async def completed() -> dict | None:
                r = await api.get(f"/task/{tid}")
                assert r.status_code == 200, r.text
                return r.json() if r.json()["status"] == "completed" else None

            record = await wait_for(completed, timeout=30, interval=0.05)
            # The worker's own routes answer; Faust's pages that would show any table row
            # (or the app's internals) to whoever reaches the port are off.
            assert httpx.get(f"{settings.worker_base_url}/tasks/{tid}/", timeout=10).status_code == 200
            for page in (f"/table/task_status/{tid}/", "/table/", "/router/", "/graph/", "/stats/"):
                assert httpx.get(f"{settings.worker_base_url}{page}", timeout=10).status_code == 404, page
    assert record["name"] == "transcript"
    assert record["retry_count"] == 0 and record["error"] is None
    assert record["created_at"] <= record["started_at"] <= record["completed_at"]
    assert record["session_id"] == "s-e2e"
    # On the status topic, the task's one record: its worker's completed row. The API wrote no
    # queued status (the event is that), and a task that ends within half a second no running.
    status_topic = Topics.from_settings(settings).task_status.name
    records = await read_topic(settings.kafka_bootstrap, status_topic, count=1000, timeout=3)
    statuses = [decode(r.value).data.status.value for r in records if r.key == tid.encode()]
    assert statuses == ["completed"]


async def test_without_a_worker_a_task_reads_queued_on_any_api_and_completes_once_one_runs(
    settings: Settings,
) -> None:
    async with api_client(settings) as api, api_client(settings) as other:
        accepted = await api.post("/events", json={"type": "chat.turn", "v": 1, "data": TURN})
        assert accepted.status_code == 202
        tid = accepted.json()["task_ids"][0]
        # No worker runs: the acknowledged event is the task's queued state, on this API and on
        # another replica that never saw the request (it reads the input topic).
        for replica in (api, other):
            queued = await replica.get(f"/task/{tid}")
            assert queued.status_code == 200, queued.text
            assert queued.json()["status"] == "queued"
        with running_worker(settings):

            async def done() -> bool:
                return (await api.get(f"/task/{tid}")).json()["status"] == "completed"

            await wait_for(done, timeout=30)


async def test_a_poison_record_is_dead_lettered_and_the_next_record_still_completes(
    settings: Settings,
) -> None:
    topics = Topics.from_settings(settings)
    good = new_envelope(ChatTurn(**TURN))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        # Same key: same partition, so the good record sits right behind the poison one.
        await producer.send_and_wait(topics.conversations.name, b"\xffnot json{", key=b"s-e2e")
        await producer.send_and_wait(topics.conversations.name, encode(good), key=b"s-e2e")
    finally:
        await producer.stop()

    with running_worker(settings):
        async with api_client(settings) as api:
            tid = task_id("transcript", good.id)

            async def completed() -> bool:
                r = await api.get(f"/task/{tid}")
                return r.status_code == 200 and r.json()["status"] == "completed"

            await wait_for(completed, timeout=45)

    [record] = await read_topic(settings.kafka_bootstrap, topics.dead_letter.name, count=1)
    letter = decode(record.value)
    assert letter.type == "dead.letter"
    assert letter.data.reason == "not_json"
    assert "not valid UTF-8 JSON" in letter.data.error
    assert base64.b64decode(letter.data.original_b64) == b"\xffnot json{"
    assert letter.data.origin_topic == topics.conversations.name
    assert letter.data.original_key == "s-e2e"
    assert record.key == b"s-e2e"


async def test_an_envelope_from_the_java_console_producer_completes(settings: Settings) -> None:
    """Any Kafka client can feed the pipeline: here Kafka's own console producer."""
    envelope = new_envelope(ChatTurn(**TURN))
    libs = LocalBroker.from_settings(settings).ensure_jars()
    topics = Topics.from_settings(settings)
    line = b"s-e2e|" + orjson.dumps(envelope.to_dict()) + b"\n"
    subprocess.run(
        [
            "java",
            "-cp",
            f"{libs}/*",
            "org.apache.kafka.tools.ConsoleProducer",
            "--bootstrap-server",
            settings.kafka_bootstrap,
            "--topic",
            topics.conversations.name,
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=|",
        ],
        input=line,
        check=True,
        timeout=60,
        capture_output=True,
    )
    with running_worker(settings):
        async with api_client(settings) as api:
            tid = task_id("transcript", envelope.id)

            async def completed() -> bool:
                r = await api.get(f"/task/{tid}")
                return r.status_code == 200 and r.json()["status"] == "completed"

            await wait_for(completed, timeout=45)


async def test_unknown_task_ids_are_404(settings: Settings) -> None:
    with running_worker(settings):
        async with api_client(settings) as api:
            r = await api.get("/task/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert "unknown task" in r.json()["detail"]


WORKER_KEY = "worker-" + "k" * 32


async def test_with_a_worker_key_the_workers_routes_answer_only_requests_that_carry_it(
    settings: Settings,
) -> None:
    keyed = settings.model_copy(update={"worker_api_key": SecretStr(WORKER_KEY)})
    base = keyed.worker_base_url
    with running_worker(keyed):
        async with api_client(keyed) as api:
            accepted = await api.post("/events", json={"type": "chat.turn", "v": 1, "data": TURN})
            tid = accepted.json()["task_ids"][0]

            async def completed() -> bool:
                r = await api.get(f"/task/{tid}")
                return r.status_code == 200 and r.json()["status"] == "completed"

            await wait_for(completed, timeout=30)
        for route in (f"/tasks/{tid}/", "/metrics/", "/learners/s-e2e/progress/", "/costs/"):
            refused = httpx.get(f"{base}{route}", timeout=10)
            assert refused.status_code == 401, route
            assert refused.json()["reason"] == "unauthorized"
            wrong = httpx.get(f"{base}{route}", headers={"X-API-Key": "x" * 40}, timeout=10)
            assert wrong.status_code == 401, route
        answered = httpx.get(f"{base}/tasks/{tid}/", headers={"X-API-Key": WORKER_KEY}, timeout=10)
        assert answered.status_code == 200 and answered.json()["status"] == "completed"
        assert httpx.get(f"{base}/metrics/", headers={"X-API-Key": WORKER_KEY}, timeout=10).status_code == 200
        assert httpx.get(f"{base}/health/", timeout=10).status_code == 200  # probes need no key
        # The API's client of the worker carries the key it is given.
        with_key = StatusClient(base, key=keyed.worker_api_key)
        try:
            record = await with_key.get(tid)
        finally:
            await with_key.close()
        assert record is not None and record["status"] == "completed"


def test_a_production_worker_without_its_key_refuses_to_start(settings: Settings) -> None:
    from streams.app import create_app as worker_app

    production = settings.model_copy(update={"env": "production"})
    with pytest.raises(ConfigError, match="FEYNMAN_WORKER_API_KEY"):
        worker_app(production)
