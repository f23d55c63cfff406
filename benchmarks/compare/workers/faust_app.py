"""This pipeline's worker for the benchmark: the real app plus one ``bench`` task type.

``faust -A benchmarks.compare.workers.faust_app worker``; a ``chat.turn``
whose text is ``sleep:S`` waits S seconds (an LLM-like call), ``sleep:0`` is a
no-op. Per-session order and the in-flight limit are the runtime's own
(``FEYNMAN_BENCH_CONCURRENCY``).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from foundation.settings import get_settings
from schemas.envelope import Envelope
from streams.app import create_app
from streams.tasks import TaskContext, TaskType

TASK_TYPE = "bench"


async def work(envelope: Envelope[Any], context: TaskContext) -> str | None:
    sleep_s = float(envelope.data.user_input.removeprefix("sleep:"))
    if sleep_s > 0:
        await asyncio.sleep(sleep_s)
    return None


CONCURRENCY = int(os.environ.get("FEYNMAN_BENCH_CONCURRENCY", "1"))
app = create_app(
    get_settings(),
    task_types=[TaskType(TASK_TYPE, work, concurrency=CONCURRENCY, ordered=True, timeout_s=60)],
    routes={"chat.turn": (TASK_TYPE,)},
)
