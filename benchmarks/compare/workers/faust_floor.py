"""The least a Faust agent can do per event: Faust's own floor under the runtime.

``faust -A benchmarks.compare.workers.faust_floor worker``: one agent on the
conversations topic, configured as the pipeline's worker (same producer, acks,
linger, consumer), that sends one record per event to the status topic and
lets Faust ack and commit. No decoding, no status row, no gate: whatever this
costs, every Faust agent pays per event before doing any work.
``FEYNMAN_FLOOR_TAKE=N`` takes events in lists of up to N (``stream.take``)
instead of one at a time.
"""

from __future__ import annotations

import os
from typing import Any

from foundation.settings import get_settings
from schemas.topics import Topics
from streams.app import pipeline_app

settings = get_settings()
topics = Topics.from_settings(settings)
app = pipeline_app(settings)
TAKE = int(os.environ.get("FEYNMAN_FLOOR_TAKE", "0"))


def _raw_topic(name: str) -> Any:
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


source = _raw_topic(topics.conversations.name)
sink = _raw_topic(topics.task_status.name)


@app.agent(source)
async def floor(stream: Any) -> None:
    if TAKE:
        async for events in stream.take_events(TAKE, within=0.01):
            for event in events:
                await sink.send(key=event.key, value=event.value)
        return
    async for event in stream.events():
        await sink.send(key=event.key, value=event.value)


@app.page("/health/")
async def health(web: Any, request: Any) -> Any:
    """Answers once the worker started, as the pipeline worker's does (bench helpers wait for it)."""
    return web.json({"status": "ok"})
