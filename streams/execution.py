"""One attempt of one task: skip it if done, run its handler, record how it ended.

The outcome is recorded in an order a crash can stop anywhere (see
``Executor.execute``); a failure becomes a retry on a retry tier topic, or a
dead letter after the last attempt, so a failed task never holds its partition.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from foundation.errors import PermanentTaskError
from foundation.settings import Settings
from schemas.envelope import Envelope, encode, new_envelope
from schemas.events import TaskRetry
from schemas.status import generation
from schemas.tasks import TaskStatus, task_id
from schemas.topics import Topics
from streams.expiry import current_partition
from streams.intake import Origin
from streams.outcomes import Outcomes, Send
from streams.task_metrics import TaskMetrics
from streams.tasks import TaskContext, TaskType
from streams.writes import Writes, collecting

log = logging.getLogger(__name__)

JITTER = 0.2
# A task still running after this long gets a ``running`` status of its own.
RUNNING_AFTER_S = 0.5
# What _run_handler returns once a failure is recorded (None is a valid result reference).
_FAILED: Any = object()


@dataclass
class Executor:
    """Runs task attempts for one worker; the runtime decides when, in which slot and turn."""

    settings: Settings
    topics: Topics
    worker: str
    metrics: TaskMetrics
    outcomes: Outcomes
    send: Send
    # The current rebalance's signal: a write still waiting for Kafka stops waiting when it is set.
    given_up: Callable[[], asyncio.Event]
    # Results by task type and input hash (Runtime.install declares it).
    cache: faust.Table | None = None

    async def execute(
        self,
        task_type: TaskType,
        envelope: Envelope[Any],
        *,
        attempt: int,
        origin: Origin,
    ) -> Writes:
        """Run one attempt and record its outcome; returns the rows still to be acknowledged.

        The outcome is recorded in an order a crash can stop anywhere: the
        handler's table rows are acknowledged first, then its status row is
        sent; the caller awaits that row before the event may be acked. A
        failure is recorded as a retry or a dead letter, awaited here. Raises
        only if a record could not be sent; the runtime then calls it again
        (``streams.redo.until_recorded``), and that pass sends a ``completed`` row it finds
        again rather than run the handler twice.
        """
        tid = task_id(task_type.name, envelope.id)
        statuses = self.outcomes.table
        with collecting() as writes:
            if envelope.replay is not None and not envelope.replay.runs(task_type.name):
                return writes  # a replay of other task types of this event: this one stays as it was
            done = statuses.change(tid)
            if (
                done is not None
                and done.status is TaskStatus.COMPLETED
                and generation(envelope.replay_id) <= generation(done.replay_id)
            ):
                # The row is sent again and awaited. Its earlier send may be the one
                # that failed, or still be in flight from before a rebalance. And a
                # RocksDB store keeps rows written just before a crash whose send never
                # reached Kafka. A redelivery is where any of these shows up, and
                # redeliveries are rare, so this costs nothing in the steady state.
                statuses.rewrite(tid)
                # A redelivery (crash, rebalance) of work this generation already did: its
                # status row says so, and stays; a newer replay runs it again.
                self.metrics.transitions[TaskStatus.SKIPPED.value, task_type.name] += 1
                return writes
            started_at = datetime.now(UTC)
            # ``running`` is written only for a task still running after RUNNING_AFTER_S:
            # most tasks end sooner, and their one record goes straight to their outcome.
            running = asyncio.get_running_loop().call_later(
                RUNNING_AFTER_S, self._report_running, tid, task_type.name, envelope, attempt, started_at
            )
            try:
                result_ref = await self._run_handler(task_type, envelope, tid, attempt, origin)
            finally:
                running.cancel()
            if result_ref is _FAILED:
                return writes
            if writes:
                # The handler's rows are durable before its status row, the completion
                # marker a redelivery is skipped by, can be.
                await writes.durable(self.given_up())
            await self.outcomes.status(
                tid,
                task_type.name,
                envelope,
                TaskStatus.COMPLETED,
                attempt=attempt,
                result_ref=result_ref,
                started_at=started_at,
            )
        return writes

    async def _run_handler(
        self, task_type: TaskType, envelope: Envelope[Any], tid: str, attempt: int, origin: Origin
    ) -> Any:
        """The handler's result reference (from the cache when it has one), or ``_FAILED`` once
        the failure is recorded as a retry or a dead letter."""
        assert self.cache is not None, "install() declares the result cache"
        cache_key = self._cache_key(task_type, envelope)
        cached = self.cache.get(cache_key) if cache_key else None
        if cached is not None and self.outlived(cached, datetime.now(UTC)) is None:
            cached = None  # expired, its request to be pruned not applied yet
        if cached is not None:
            self.metrics.cache["hit", task_type.name] += 1
            return cached.get("result_ref")
        if cache_key:
            self.metrics.cache["miss", task_type.name] += 1
        context = TaskContext(task_id=tid, task_type=task_type.name, attempt=attempt, worker=self.worker)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(task_type.timeout_s):
                result_ref = await task_type.handler(envelope, context)
        except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered, never dropped
            timed_out = isinstance(exc, TimeoutError)
            error = f"timed out after {task_type.timeout_s:g} s" if timed_out else repr(exc)
            reason = "timeout" if timed_out else "max_attempts"
            if isinstance(exc, PermanentTaskError):
                reason = "permanent"
            tb = traceback.format_exc()
            await self._failed(task_type, envelope, attempt, origin, error, tb, reason)
            return _FAILED
        self.metrics.seconds.labels(task_type.name).observe(time.perf_counter() - started)
        if cache_key:
            self.cache[cache_key] = {
                "result_ref": result_ref,
                "task_id": tid,
                "at": datetime.now(UTC).isoformat(),
                "partition": current_partition(self.cache, cache_key),
            }
        return result_ref

    def _report_running(
        self, tid: str, task_type: str, envelope: Envelope[Any], attempt: int, started_at: datetime
    ) -> None:
        """A slow task's ``running`` row; its send joins the task's writes (the call keeps its context)."""
        self.outcomes.record_status(
            tid, task_type, envelope, TaskStatus.RUNNING, attempt=attempt, started_at=started_at
        )

    def outlived(self, row: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        """A cached result: None once older than the result retention."""
        at = row.get("at")
        if not isinstance(at, str):
            return row  # written before rows carried their time: kept
        retention = timedelta(seconds=self.settings.result_retention_s)
        return None if datetime.fromisoformat(at) + retention <= now else row

    @staticmethod
    def _cache_key(task_type: TaskType, envelope: Envelope[Any]) -> str | None:
        if task_type.cache_key is None:
            return None
        digest = task_type.cache_key(envelope)
        return f"{task_type.name}/{digest}" if digest else None

    async def _failed(
        self,
        task_type: TaskType,
        envelope: Envelope[Any],
        attempt: int,
        origin: Origin,
        error: str,
        tb: str,
        reason: str,
    ) -> None:
        tid = task_id(task_type.name, envelope.id)
        log.warning("task %s (%s) attempt %d failed: %s", tid, task_type.name, attempt, error)
        next_attempt = attempt + 1
        if next_attempt < task_type.max_attempts and reason != "permanent":
            delay = task_type.retry_delay_s(next_attempt) * random.uniform(1 - JITTER, 1 + JITTER)
            retry = TaskRetry(
                task_type=task_type.name,
                attempt=next_attempt,
                due_at=datetime.now(UTC) + timedelta(seconds=delay),
                error=error[:4000],
                origin_topic=origin.topic,
                origin_partition=origin.partition,
                origin_offset=origin.offset,
                original_b64=base64.b64encode(origin.raw).decode("ascii"),
                original_key=origin.key,
            )
            tier = self.topics.retry_tier_for(delay)
            await self.send(tier, origin.key, encode(new_envelope(retry, source=self.worker)))
            await self.outcomes.status(
                tid, task_type.name, envelope, TaskStatus.RETRYING, attempt=attempt, error=error, wait=True
            )
            return
        await self.outcomes.dead(
            task_type.name,
            envelope,
            origin,
            reason=reason,
            error=error,
            attempt=attempt,
            attempts=next_attempt,
            tb=tb,
        )
