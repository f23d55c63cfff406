"""The costs task type: usage priced into buckets that survive a worker restart, reports, dead letters."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from schemas import CostReport, LlmUsage, decode, encode, new_envelope, ordering_key, task_id
from schemas.envelope import Envelope
from schemas.topics import Topics
from tests.support import api_client, child_env, read_topic, running_worker, wait_for


def usage(model: str = "gpt-4o-mini", prompt: int = 1000, completion: int = 500) -> Envelope[LlmUsage]:
    return new_envelope(
        LlmUsage(
            model=model, prompt_tokens=prompt, completion_tokens=completion, latency_ms=5, user_id="u-cost"
        )
    )


async def publish(settings: Settings, *envelopes: Envelope[LlmUsage]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        topic = Topics.from_settings(settings).llm_usage.name
        for envelope in envelopes:
            await producer.send_and_wait(topic, encode(envelope), key=ordering_key(envelope).encode())
    finally:
        await producer.stop()


async def totals_with(api: httpx.AsyncClient, calls: int) -> dict | None:
    r = await api.get("/costs", params={"user": "u-cost"})
    assert r.status_code == 200, r.text
    return r.json() if r.json()["total"]["calls"] == calls else None


async def todays_report(settings: Settings, *, calls: int) -> CostReport | None:
    """The newest cost.report of today that counts ``calls`` calls, if the leader published one."""
    topic = Topics.from_settings(settings).cost_reports.name
    records = await read_topic(settings.kafka_bootstrap, topic, count=1000, timeout=1.0)
    today = datetime.now(UTC).date().isoformat()
    reports = [decode(r.value).data for r in records]
    return next((r for r in reversed(reports) if r.day == today and r.totals["calls"] == calls), None)


async def test_costs_add_up_exactly_once_across_a_worker_restart(settings_factory) -> None:
    settings = settings_factory(cost_report_interval_s=2.0)
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    first, second, third = (
        usage(),
        usage(prompt=2000, completion=0),
        usage(model="gpt-4o", prompt=10, completion=10),
    )
    await publish(settings, first, second)
    async with api_client(settings) as api:
        with running_worker(settings):
            before = await wait_for(lambda: totals_with(api, 2), timeout=30)
        # Redelivered usage (same event id) and a new one, while no worker runs.
        await publish(settings, first, third)
        with running_worker(settings, name="worker2"):
            after = await wait_for(lambda: totals_with(api, 3), timeout=30)
            bad_range = await api.get("/costs", params={"from": "2025-02-02", "to": "2025-02-01"})
            report = await wait_for(lambda: todays_report(settings, calls=3), timeout=20)

    # gpt-4o-mini: 0.15 / 0.60 USD per million tokens; gpt-4o: 2.50 / 10.00.
    mini = Decimal("0.15") * 1000 / 10**6 + Decimal("0.60") * 500 / 10**6 + Decimal("0.15") * 2000 / 10**6
    big = Decimal("2.50") * 10 / 10**6 + Decimal("10.00") * 10 / 10**6
    assert Decimal(before["total"]["cost"]) == mini
    assert Decimal(after["total"]["cost"]) == mini + big
    assert after["total"]["input_tokens"] == 3010 and after["currency"] == "USD"
    [day] = after["by_day"]
    assert day["window"] == datetime.now(UTC).date().isoformat()
    assert day["models"] == {"gpt-4o-mini": 2, "gpt-4o": 1}
    assert bad_range.status_code == 422 and bad_range.json()["reason"] == "bad_range"

    assert Decimal(report.totals["cost"]) == mini + big and not report.complete
    assert report.by_user["u-cost"]["calls"] == 3
    assert report.by_model["gpt-4o"]["calls"] == 1 and report.by_model["gpt-4o-mini"]["calls"] == 2


async def test_usage_of_an_unpriced_model_is_dead_lettered_without_retries(settings: Settings) -> None:
    unknown = usage(model="no-such-model")
    await publish(settings, unknown)
    with running_worker(settings):
        async with api_client(settings) as api:
            tid = task_id("costs", unknown.id)

            async def dead() -> dict | None:
                r = await api.get(f"/task/{tid}")
                return r.json() if r.status_code == 200 and r.json()["status"] == "dead" else None

            record = await wait_for(dead, timeout=30)
    assert record["retry_count"] == 0
    assert "no-such-model" in record["error"]


async def test_replayed_usage_runs_again_but_is_not_counted_twice(settings: Settings) -> None:
    first, second = usage(), usage(prompt=2000, completion=0)
    await publish(settings, first, second)
    async with api_client(settings) as api:
        with running_worker(settings):
            before = await wait_for(lambda: totals_with(api, 2), timeout=30)
            replayed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "feynman.cli",
                    "replay",
                    "llm_usage",
                    "--from",
                    "-1h",
                    "--no-progress",
                ],
                capture_output=True,
                text=True,
                env=child_env(settings),
                timeout=60,
            )
            assert replayed.returncode == 0, replayed.stderr

            async def rerun() -> list[dict] | None:
                # The worker's own record: a replay is a new generation of the task.
                urls = [
                    f"{settings.worker_base_url}/tasks/{task_id('costs', e.id)}/" for e in (first, second)
                ]
                records = [httpx.get(url, timeout=5).json() for url in urls]
                ok = all(r.get("status") == "completed" and r.get("replay_id") for r in records)
                return records if ok else None

            await wait_for(rerun, timeout=30)
            after = (await api.get("/costs", params={"user": "u-cost"})).json()
    assert after["total"] == before["total"]


async def test_expired_buckets_are_pruned_and_stay_pruned_across_a_restart(settings_factory) -> None:
    settings = settings_factory(
        store="rocksdb://",
        cost_day_retention_days=1,
        cost_hour_retention_days=1,
        table_expiry_interval_s=0.5,
    )
    topics = Topics.from_settings(settings)
    await ensure_topics(settings.kafka, topics.all())
    now = datetime.now(UTC)
    old = dataclasses.replace(usage(), ts=now - timedelta(days=3))  # its buckets have expired
    today, old_day = now.date().isoformat(), old.ts.date().isoformat()
    await publish(settings, old, usage())

    async def pruned() -> list[dict] | None:
        records = await read_topic(
            settings.kafka_bootstrap, topics.cost_user_day_changelog.name, count=100, timeout=1
        )
        rows = [orjson.loads(r.value) for r in records if r.key == b"u-cost" and r.value is not None]
        return rows if rows and set(rows[-1]["buckets"]) == {today} else None

    async with api_client(settings) as api:
        with running_worker(settings) as worker:
            rows = await wait_for(pruned, timeout=30)
            assert worker.alive() and "Crashed" not in worker.tail(1000)
        with running_worker(settings, name="worker2"):
            after = (await api.get("/costs", params={"user": "u-cost", "from": old_day, "to": today})).json()
    assert any(old_day in row["buckets"] for row in rows), "the old usage was counted before it expired"
    assert [day["window"] for day in after["by_day"]] == [today]
    assert after["total"]["calls"] == 1
