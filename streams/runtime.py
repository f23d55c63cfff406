"""The task runtime: how every task type is run on Faust.

Faust gives agents, tables and offset commits; this module adds what it does
not: statuses, retries that never block a partition, dead letters, in-flight
limits with per-key order, timeouts and skipping work already done. Known
Faust behaviour it designs around:

- An exception raised in an agent acks (and so commits past) its event: no
  handler error ever escapes; it becomes a retry or a dead letter.
- ``concurrency>1`` can commit past in-flight work (issue 606), and its
  commit gap check is off by one (``_new_offset`` in
  faust/transport/consumer.py): events are processed one at a time per
  partition, so an offset is acked only after its tasks' outcomes are durable.
- ``exactly_once`` has open bugs (440, 517, 323): the runtime is at-least-once
  and makes effects idempotent by task id instead.

A failed task never holds its partition: it is republished to a retry tier
topic and the partition moves on; after its last attempt it is dead-lettered.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import socket
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import faust
from faust.types import EventT, TopicT

from feynman.errors import DecodeError
from feynman.settings import Settings
from schemas.envelope import Envelope, decode, encode, new_envelope, ordering_key
from schemas.events import DeadLetter, TaskRetry, TaskStatusChanged
from schemas.tasks import INTAKE_TASK, TASK_ROUTES, TaskStatus, task_id
from schemas.topics import Topics, TopicSpec
from streams.tasks import TaskContext, TaskType

log = logging.getLogger(__name__)

AcceptHook = Callable[[Envelope[Any], list[tuple[str, str]]], Awaitable[None]]
JITTER = 0.2


class StrKeyTable(faust.Table):
    """A table whose keys are raw UTF-8, like the keys of the topics it mirrors.

    Faust writes a row with the table's serializers but restores it with its
    changelog topic's; a ``str`` key would be written as JSON (``"id"``) and
    come back quoted, losing every row on restart. Raw keys also hash like the
    status topic's keys, so ``table_route`` finds the worker that owns a task.
    """

    def _serializer_from_type(self, typ: Any) -> Any:
        return "raw" if typ is str else super()._serializer_from_type(typ)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record first entered the pipeline, kept through every retry."""

    topic: str
    partition: int
    offset: int
    key: str | None
    raw: bytes

    @classmethod
    def of(cls, event: EventT[Any]) -> Origin:
        msg = event.message
        key = msg.key.decode("utf-8", "replace") if isinstance(msg.key, bytes) else msg.key
        raw = msg.value if isinstance(msg.value, bytes) else bytes(event.value)
        return cls(msg.topic, msg.partition, msg.offset, key, raw)


def check_key(key: str | None, envelope: Envelope[Any]) -> None:
    """The record's key must be the event's ordering key (DESIGN.md contract 2).

    Tables keyed by session live in the partition of the record's key; a record
    keyed otherwise would land its state where no lookup finds it and break
    per-session order, so it is refused with a reason instead.
    """
    want = ordering_key(envelope)
    if key != want:
        raise DecodeError("wrong_key", f"record key {key!r} is not the event's ordering key {want!r}")


@dataclass
class Runtime:
    """The Faust app plus the pipeline's conventions, shared by all agents."""

    app: faust.App
    settings: Settings
    topics: Topics
    routes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(TASK_ROUTES))
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    task_types: dict[str, TaskType] = field(default_factory=dict)
    # Called with each valid input event and its (task type, task id) pairs,
    # e.g. to index a session's tasks.
    on_accept: list[AcceptHook] = field(default_factory=list)
    _faust_topics: dict[str, TopicT] = field(default_factory=dict)
    _done: faust.Table | None = None

    # --- declarations -------------------------------------------------------

    def topic(self, spec: TopicSpec, *, internal: bool = False) -> TopicT:
        """The Faust topic for a declared topic; records stay raw bytes.

        Raw values let the pipeline decode (and dead-letter) poison records
        itself instead of Faust's deserializer crashing the agent.
        """
        if spec.name not in self._faust_topics:
            self._faust_topics[spec.name] = self.app.topic(
                spec.name,
                key_type=str,
                key_serializer="raw",
                value_serializer="raw",
                partitions=spec.partitions,
                replicas=spec.replication_factor,
                internal=internal,
                compacting=spec.cleanup_policy == "compact",
                config=spec.config(),
            )
        return self._faust_topics[spec.name]

    def table(self, name: str, changelog: TopicSpec, *, help: str) -> faust.Table:
        """A changelog-backed table whose changelog is the declared topic."""
        changelog_topic = self.app.topic(
            changelog.name,
            key_type=str,
            key_serializer="raw",
            value_serializer="json",
            partitions=changelog.partitions,
            replicas=changelog.replication_factor,
            internal=True,
            compacting=True,
            config=changelog.config(),
        )
        table = StrKeyTable(
            self.app,
            name=name,
            default=None,
            key_type=str,
            value_type=dict,
            partitions=changelog.partitions,
            changelog_topic=changelog_topic,
            help=help,
        )
        return cast(faust.Table, self.app.tables.add(table))

    def add_task_types(self, task_types: Sequence[TaskType]) -> None:
        for task_type in task_types:
            self.task_types[task_type.name] = task_type

    # --- agents ---------------------------------------------------------------

    def install(self) -> None:
        """The conversations agent and one agent per retry tier."""
        self._done = self.table(
            "completed_tasks",
            self.topics.completed_tasks_changelog,
            help="Task ids that completed, so a redelivered event is skipped, not rerun.",
        )
        source = self.topics.conversations

        @self.app.agent(self.topic(source), name="conversations")
        async def conversations(stream: faust.StreamT[bytes]) -> None:
            # One event at a time, in partition order: Faust acks an event when
            # the loop asks for the next one, so its tasks' outcomes are durable
            # before its offset can be committed.
            async for event in stream.events():
                await self._process(event, source)

        for spec in self.topics.retry_tiers:
            self._install_retry_agent(spec)

    async def _process(self, event: EventT[Any], source: TopicSpec) -> None:
        """Dead-letter a poison record, or run every task the event triggers."""
        try:
            envelope = self.validate(event, source)
        except DecodeError as exc:
            poison_id = await self.poison(event, exc.reason, exc.message)
            await self.status(poison_id, INTAKE_TASK, None, TaskStatus.INVALID, error=exc.message, wait=True)
            return
        names = self.routes.get(envelope.type, ())
        for hook in self.on_accept:
            await hook(envelope, [(t, task_id(t, envelope.id)) for t in names])
        origin = Origin.of(event)
        for name in names:
            task_type = self.task_types.get(name)
            if task_type is None:
                # A routed task type this worker does not run is a deployment bug:
                # keep the event (dead letter) rather than pretend it was handled.
                error = f"no handler for task type {name!r} on this worker"
                tid = task_id(name, envelope.id)
                await self.dead_letter(
                    origin, reason="no_handler", error=error, task_type=name, task_id=tid, envelope=envelope
                )
                await self.status(tid, name, envelope, TaskStatus.DEAD, error=error, wait=True)
                continue
            await self.execute(task_type, envelope, attempt=0, origin=origin)

    def validate(self, event: EventT[Any], source: TopicSpec) -> Envelope[Any]:
        envelope = decode(event.value)
        if self.topics.for_event_type(envelope.type) is not source:
            raise DecodeError("wrong_topic", f"{envelope.type} events do not belong on {source.name}")
        check_key(Origin.of(event).key, envelope)
        return envelope

    def _install_retry_agent(self, spec: TopicSpec) -> None:
        @self.app.agent(self.topic(spec), name=f"retry-{spec.name.rsplit('-', 1)[-1]}")
        async def retry_agent(stream: faust.StreamT[bytes]) -> None:
            # One record at a time: every record in a tier waits about as long,
            # so records behind the head are due no earlier than it (±jitter).
            async for event in stream.events():
                await self._retry(event, spec)

    async def _retry(self, event: EventT[Any], spec: TopicSpec) -> None:
        try:
            record = decode(event.value)
            if not isinstance(record.data, TaskRetry):
                raise DecodeError("wrong_topic", f"{record.type} events do not belong on {spec.name}")
            retry = record.data
            raw = base64.b64decode(retry.original_b64)
            envelope = decode(raw)
        except (DecodeError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, DecodeError) else "bad_retry_record"
            await self.poison(event, reason, str(exc))
            return
        task_type = self.task_types.get(retry.task_type)
        origin = Origin(
            retry.origin_topic, retry.origin_partition, retry.origin_offset, retry.original_key, raw
        )
        if task_type is None:
            error = f"no handler for task type {retry.task_type!r} on this worker"
            tid = task_id(retry.task_type, envelope.id)
            await self.dead_letter(
                origin,
                reason="no_handler",
                error=error,
                task_type=retry.task_type,
                task_id=tid,
                envelope=envelope,
            )
            await self.status(tid, retry.task_type, envelope, TaskStatus.DEAD, error=error, wait=True)
            return
        wait = (retry.due_at - datetime.now(UTC)).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
        await self.execute(task_type, envelope, attempt=retry.attempt, origin=origin)

    # --- one task -------------------------------------------------------------

    async def execute(
        self, task_type: TaskType, envelope: Envelope[Any], *, attempt: int, origin: Origin
    ) -> None:
        """Run one attempt and record its outcome; never raises."""
        tid = task_id(task_type.name, envelope.id)
        assert self._done is not None
        if self._done.get(tid) is not None:
            # A redelivery (crash, rebalance) of work already done.
            await self.status(tid, task_type.name, envelope, TaskStatus.SKIPPED, attempt=attempt, wait=True)
            return
        await self.status(tid, task_type.name, envelope, TaskStatus.RUNNING, attempt=attempt)
        context = TaskContext(task_id=tid, task_type=task_type.name, attempt=attempt, worker=self.worker)
        try:
            async with asyncio.timeout(task_type.timeout_s):
                result_ref = await task_type.handler(envelope, context)
        except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered, never dropped
            timed_out = isinstance(exc, TimeoutError)
            error = f"timed out after {task_type.timeout_s:g} s" if timed_out else repr(exc)
            await self._failed(task_type, envelope, attempt, origin, error, traceback.format_exc(), timed_out)
            return
        self._done[tid] = {"at": datetime.now(UTC).isoformat(), "result_ref": result_ref}
        # Table writes (the handler's and the marker above) leave through Faust's
        # producer buffer without an ack to wait on: flush so they are durable
        # before the status says completed, or a crash could rerun finished work.
        await self.app.producer.flush()
        await self.status(
            tid,
            task_type.name,
            envelope,
            TaskStatus.COMPLETED,
            attempt=attempt,
            result_ref=result_ref,
            wait=True,
        )

    async def _failed(
        self,
        task_type: TaskType,
        envelope: Envelope[Any],
        attempt: int,
        origin: Origin,
        error: str,
        tb: str,
        timed_out: bool,
    ) -> None:
        tid = task_id(task_type.name, envelope.id)
        log.warning("task %s (%s) attempt %d failed: %s", tid, task_type.name, attempt, error)
        next_attempt = attempt + 1
        if next_attempt < task_type.max_attempts:
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
            fut = await self.topic(tier).send(
                key=origin.key, value=encode(new_envelope(retry, source=self.worker))
            )
            await fut
            await self.status(
                tid, task_type.name, envelope, TaskStatus.RETRYING, attempt=attempt, error=error, wait=True
            )
            return
        reason = "timeout" if timed_out else "max_attempts"
        await self.dead_letter(
            origin,
            reason=reason,
            error=error,
            task_type=task_type.name,
            task_id=tid,
            envelope=envelope,
            attempts=next_attempt,
            tb=tb,
        )
        await self.status(
            tid, task_type.name, envelope, TaskStatus.DEAD, attempt=attempt, error=error, wait=True
        )

    # --- records ----------------------------------------------------------------

    async def status(
        self,
        tid: str,
        task_type: str,
        envelope: Envelope[Any] | None,
        status: TaskStatus,
        *,
        attempt: int = 0,
        error: str | None = None,
        result_ref: str | None = None,
        wait: bool = False,
    ) -> None:
        """Publish one status transition; ``wait`` until Kafka acknowledged it."""
        change = TaskStatusChanged(
            task_id=tid,
            task_type=task_type,
            status=status,
            at=datetime.now(UTC),
            event_id=envelope.id if envelope else tid,
            event_type=envelope.type if envelope else "unknown",
            session_id=getattr(envelope.data, "session_id", None) if envelope else None,
            attempt=attempt,
            worker=self.worker,
            error=error[:4000] if error else None,
            result_ref=result_ref,
        )
        value = encode(new_envelope(change, source=self.worker))
        fut = await self.topic(self.topics.task_status).send(key=tid, value=value)
        if wait:
            await fut

    async def poison(self, event: EventT[Any], reason: str, error: str) -> str:
        """Dead-letter a record that cannot be read; returns its (position-derived) task id."""
        msg = event.message
        poison_id = task_id(INTAKE_TASK, f"{msg.topic}/{msg.partition}/{msg.offset}")
        await self.dead_letter(
            Origin.of(event), reason=reason, error=error, task_type=INTAKE_TASK, task_id=poison_id
        )
        return poison_id

    async def dead_letter(
        self,
        origin: Origin,
        *,
        reason: str,
        error: str,
        task_type: str,
        task_id: str,
        envelope: Envelope[Any] | None = None,
        attempts: int = 0,
        tb: str | None = None,
    ) -> None:
        """Publish the record to the dead-letter topic and wait for Kafka's ack."""
        letter = DeadLetter(
            reason=reason,
            error=error[:4000],
            origin_topic=origin.topic,
            origin_partition=origin.partition,
            origin_offset=origin.offset,
            original_b64=base64.b64encode(origin.raw).decode("ascii"),
            original_key=origin.key,
            event_id=envelope.id if envelope else None,
            event_type=envelope.type if envelope else None,
            task_type=task_type,
            task_id=task_id,
            attempts=attempts,
            traceback=tb[-16000:] if tb else None,
        )
        log.warning("dead letter from %s[%d]@%d: %s", origin.topic, origin.partition, origin.offset, reason)
        value = encode(new_envelope(letter, source=self.worker))
        fut = await self.topic(self.topics.dead_letter).send(key=origin.key, value=value)
        await fut


__all__ = ["Origin", "Runtime", "StrKeyTable", "check_key"]
