"""A worker app with task types that misbehave on request, for the runtime's tests.

Run as ``faust -A tests.streams.runtime_app worker``; ``FEYNMAN_TEST_TASKS``
names the task types that ``chat.turn`` events trigger. A handler reads what
to do from the turn's text: ``fail:N`` fails the first N attempts,
``sleep:S`` sleeps S seconds. ``gated`` fails while ``<data dir>/broken``
exists: a cause outside the event, which a test can fix before a replay.
Handlers log what they did to ``<data dir>/effects.log`` so a test can see
every execution, including ones a crash cut short.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from typing import Any

from foundation.errors import PermanentTaskError
from foundation.settings import get_settings
from schemas.envelope import Envelope
from streams.app import create_app
from streams.tasks import Priority, TaskContext, TaskType

settings = get_settings()
EFFECTS = settings.data_dir / "effects.log"


def _param(envelope: Envelope[Any], name: str, default: float = 0.0) -> float:
    found = re.search(rf"\b{name}:([0-9.]+)", envelope.data.user_input)
    return float(found.group(1)) if found else default


def _effect(*fields: object) -> None:
    with EFFECTS.open("a") as log:
        log.write(" ".join(str(f) for f in fields) + "\n")


async def flaky(envelope: Envelope[Any], context: TaskContext) -> str:
    _effect("run", context.task_id, context.attempt)
    if "permanent" in envelope.data.user_input:
        raise PermanentTaskError("this input can never succeed")
    if context.attempt < _param(envelope, "fail"):
        raise RuntimeError(f"flaky failure on attempt {context.attempt}")
    return f"flaky/{context.task_id}"


async def sleeper(envelope: Envelope[Any], context: TaskContext) -> str:
    await asyncio.sleep(_param(envelope, "sleep"))
    return "slept"


async def recorder(envelope: Envelope[Any], context: TaskContext) -> str:
    session = envelope.data.session_id
    seq = int(_param(envelope, "n", -1))
    _effect("start", context.task_id, os.getpid(), session, seq, time.monotonic())
    await asyncio.sleep(_param(envelope, "sleep", 0.02))
    _effect("end", context.task_id, os.getpid(), session, seq, time.monotonic())
    return "recorded"


async def fast(envelope: Envelope[Any], context: TaskContext) -> str:
    _effect("fast", context.task_id, time.monotonic())
    return "fast"


async def cached(envelope: Envelope[Any], context: TaskContext) -> str:
    _effect("computed", context.task_id)
    return f"result-of/{context.task_id}"


def _text_hash(envelope: Envelope[Any]) -> str:
    return hashlib.sha256(envelope.data.user_input.encode()).hexdigest()


async def gated(envelope: Envelope[Any], context: TaskContext) -> str:
    _effect("gated", context.task_id, context.attempt)
    if (settings.data_dir / "broken").exists():
        raise RuntimeError("the dependency is broken")
    return f"gated/{context.task_id}"


CONCURRENCY = int(os.environ.get("FEYNMAN_TEST_CONCURRENCY", "8"))

TASK_TYPES = {
    "flaky": TaskType("flaky", flaky, max_attempts=3, retry_delays_s=(0.3,), timeout_s=5),
    "timeout": TaskType("timeout", sleeper, max_attempts=1, timeout_s=0.5),
    "recorder": TaskType("recorder", recorder, concurrency=CONCURRENCY),
    "slow": TaskType("slow", sleeper, concurrency=2, timeout_s=60),
    "fast": TaskType("fast", fast, concurrency=4, priority=Priority.HIGH),
    "cached": TaskType("cached", cached, cache_key=_text_hash),
    "gated": TaskType("gated", gated, max_attempts=1, timeout_s=5),
}
chosen = [name for name in os.environ.get("FEYNMAN_TEST_TASKS", "").split(",") if name]
app = create_app(
    settings, task_types=[TASK_TYPES[name] for name in chosen], routes={"chat.turn": tuple(chosen)}
)

# A guarded timer that raises on every run, every FEYNMAN_TEST_FAILING_TIMER seconds
# (e.g. 1): each run is logged to the effects log before it raises.
if os.environ.get("FEYNMAN_TEST_FAILING_TIMER"):
    from streams.timers import guarded_timer

    @guarded_timer(app, float(os.environ["FEYNMAN_TEST_FAILING_TIMER"]), name="test_failing_timer")
    async def failing_timer() -> None:
        _effect("timer_raised", time.monotonic())
        raise RuntimeError("the test timer fails on every run")


# FEYNMAN_TEST_FAIL_SENDS="<topic suffix>:<n>[,...]": the n-th send of this worker to a
# topic whose name ends with the suffix fails as Kafka would fail it after its retries
# (the returned future raises), so the tests see what a refused write does.
if os.environ.get("FEYNMAN_TEST_FAIL_SENDS"):
    from collections import Counter

    from aiokafka.errors import KafkaTimeoutError
    from faust.transport.drivers.aiokafka import Producer

    _rules: dict[str, set[int]] = {}
    for _rule in os.environ["FEYNMAN_TEST_FAIL_SENDS"].split(","):
        _suffix, _nth = _rule.rsplit(":", 1)
        _rules.setdefault(_suffix, set()).add(int(_nth))
    _sends: Counter[str] = Counter()
    _send = Producer.send

    async def _failing_send(self: Producer, topic: str, *args: Any, **kwargs: Any) -> Any:
        for suffix, nths in _rules.items():
            if topic.endswith(suffix):
                _sends[suffix] += 1
                if _sends[suffix] in nths:
                    _effect("send_failed", topic)
                    failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                    failed.set_exception(KafkaTimeoutError(f"test: send {_sends[suffix]} to {topic} fails"))
                    return failed
        return await _send(self, topic, *args, **kwargs)

    Producer.send = _failing_send  # type: ignore[method-assign]
