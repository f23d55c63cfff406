"""The monitoring job: periodic snapshots on their topic and the queue-size gauge in /metrics/."""

from __future__ import annotations

import httpx

from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics
from schemas import decode
from schemas.topics import Topics
from tests.support import api_client, read_topic, running_worker, wait_for


async def test_snapshots_report_every_task_type_and_the_drained_queue(settings_factory) -> None:
    settings: Settings = settings_factory(monitoring_interval_s=1.0)
    topic = Topics.from_settings(settings).monitoring.name
    await ensure_topics(settings.kafka, Topics.from_settings(settings).all())
    with running_worker(settings):
        async with api_client(settings) as api:
            r = await api.post(
                "/chat", json={"topic": "gravity", "session_id": "s-mon", "user_input": "Things fall."}
            )
            assert r.status_code == 200

            async def drained_snapshot() -> object:
                records = await read_topic(settings.kafka_bootstrap, topic, count=1000, timeout=1.0)
                snapshots = [decode(x.value).data for x in records]
                return next(
                    (
                        s
                        for s in reversed(snapshots)
                        if s.counters.get("completed:analysis")
                        and not any(s.queue_size_by_task_type.values())
                    ),
                    None,
                )

            snapshot = await wait_for(drained_snapshot, timeout=30)
            metrics = httpx.get(f"{settings.worker_base_url}/metrics/", timeout=5).text

    assert {"analysis", "consolidation", "vectors", "costs", "transcript"} <= set(
        snapshot.queue_size_by_task_type
    )
    assert snapshot.assigned_partitions > 0
    assert Topics.from_settings(settings).conversations.name in snapshot.lag_by_topic
    assert 'langgraph_workflow_queue_size{task_type="analysis"} 0.0' in metrics
    assert 'langgraph_workflow_queue_size{task_type="costs"}' in metrics
