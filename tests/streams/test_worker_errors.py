"""Errors outside a task handler: a timer that raises, a retry record the retry agent cannot use.

Neither may stop the worker (issue 13): a timer's error is logged, counted in
``/metrics/`` and the timer runs again; a bad retry record is dead-lettered.
"""

from __future__ import annotations

import base64
import re

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from foundation.settings import Settings
from schemas import ChatTurn, decode, encode, new_envelope, task_id
from schemas.events import TaskRetry
from schemas.topics import Topics
from tests.streams.worker_support import APP, effects, publish, terminal, wait_until, workers_env
from tests.support import read_topic, running_worker


def timer_errors(metrics: str, timer: str) -> float | None:
    found = re.search(rf'^feynman_worker_timer_errors_total{{timer="{timer}"}} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else None


async def test_a_timer_that_raises_is_logged_counted_and_run_again_while_events_complete(
    settings: Settings,
) -> None:
    env = {**workers_env("flaky"), "FEYNMAN_TEST_FAILING_TIMER": "0.2"}
    with running_worker(settings, app=APP, env=env) as worker:
        wait_until(
            lambda: sum(e[0] == "timer_raised" for e in effects(settings)) >= 2, 30, "the timer raised twice"
        )
        [(envelope, _)] = await publish(settings, [("s-timer", "fail:0")])
        tid = task_id("flaky", envelope.id)
        records = wait_until(lambda: terminal(settings, [tid]), 30, "the task ends")
        metrics = httpx.get(f"{settings.worker_base_url}/metrics/", timeout=5).text
        assert worker.alive()
        log = worker.log_path.read_text(errors="replace")
    assert records[tid]["status"] == "completed"
    raised = timer_errors(metrics, "test_failing_timer")
    assert raised is not None and raised >= 2
    # The worker's own timers are counted too, from 0.
    assert timer_errors(metrics, "liveness_refresh") is not None
    assert timer_errors(metrics, "table_expiry") is not None
    assert "timer test_failing_timer failed" in log
    assert "Traceback" in log and "the test timer fails on every run" in log


def naive_retry(settings: Settings, original: bytes, key: str) -> bytes:
    """A task.retry record whose ``due_at`` has no time zone (the model refuses to build one)."""
    topics = Topics.from_settings(settings)
    retry = TaskRetry(
        task_type="flaky",
        attempt=1,
        due_at="2024-05-01T12:00:11Z",  # type: ignore[arg-type]
        error="RuntimeError('flaky')",
        origin_topic=topics.conversations.name,
        origin_partition=0,
        origin_offset=0,
        original_b64=base64.b64encode(original).decode(),
        original_key=key,
    )
    obj = orjson.loads(encode(new_envelope(retry, source="tests")))
    obj["data"]["due_at"] = "2024-05-01T12:00:11"
    return orjson.dumps(obj)


async def test_a_retry_with_a_naive_due_at_is_dead_lettered_and_the_worker_goes_on(
    settings: Settings,
) -> None:
    topics = Topics.from_settings(settings)
    tier = topics.retry_tiers[0].name
    original = new_envelope(ChatTurn(session_id="s-naive", topic="t", user_input="fail:0"))
    record = naive_retry(settings, encode(original), "s-naive")
    with running_worker(settings, app=APP, env=workers_env("flaky")) as worker:
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            md = await producer.send_and_wait(tier, record, key=b"s-naive")
        finally:
            await producer.stop()
        [letter_record] = await read_topic(settings.kafka_bootstrap, topics.dead_letter.name, count=1)
        [(later, _)] = await publish(settings, [("s-later", "fail:0")])
        later_tid = task_id("flaky", later.id)
        records = wait_until(lambda: terminal(settings, [later_tid]), 30, "the later task ends")
        assert worker.alive()
    letter = decode(letter_record.value).data
    assert letter.reason == "invalid_payload"
    assert "due_at" in letter.error and "timezone" in letter.error
    assert (letter.origin_topic, letter.origin_partition, letter.origin_offset) == (
        tier,
        md.partition,
        md.offset,
    )
    assert base64.b64decode(letter.original_b64) == record
    assert records[later_tid]["status"] == "completed"
    # The retry was not run: the flaky task of the original event never started.
    assert not [e for e in effects(settings) if e[1] == task_id("flaky", original.id)]
