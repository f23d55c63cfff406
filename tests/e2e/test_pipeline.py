"""A conversation event travels API → Kafka → Faust worker → status table → API."""

from __future__ import annotations

import base64
import subprocess

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from compose.local_broker import LocalBroker
from foundation.settings import Settings
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
