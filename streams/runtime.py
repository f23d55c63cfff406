"""What every agent shares: topics, the worker's identity, status and dead letters.

Agents are thin: they hand each record to :meth:`Runtime.run_tasks`, which
decodes it, runs the task types it triggers, and records every transition as a
``task.status`` event. Nothing an agent raises escapes to Faust, because Faust
acks (and so commits past) an event whose agent raised: a failure becomes a
dead letter and a ``dead`` or ``invalid`` status instead of silent loss.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import EventT, TopicT

from feynman.errors import DecodeError
from feynman.settings import Settings
from schemas.envelope import Envelope, decode, encode, new_envelope, ordering_key
from schemas.events import DeadLetter, TaskStatusChanged
from schemas.tasks import INTAKE_TASK, TaskStatus, task_id, tasks_for
from schemas.topics import Topics, TopicSpec

log = logging.getLogger(__name__)

# A task handler: does the work for one event, returns a reference to its result.
Handler = Callable[[Envelope[Any]], Awaitable[str | None]]
AcceptHook = Callable[[Envelope[Any], list[tuple[str, str]]], Awaitable[None]]


def _check_key(key: bytes | str | None, envelope: Envelope[Any]) -> None:
    """The record's key must be the event's ordering key (DESIGN.md contract 2).

    Tables keyed by session live in the partition of the record's key; a record
    keyed otherwise would land its state where no lookup finds it and break
    per-session order, so it is refused with a reason instead.
    """
    want = ordering_key(envelope)
    got = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    if got != want:
        raise DecodeError("wrong_key", f"record key {got!r} is not the event's ordering key {want!r}")


@dataclass
class Runtime:
    """The Faust app plus the pipeline's conventions, shared by all agents."""

    app: faust.App
    settings: Settings
    topics: Topics
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    handlers: dict[str, Handler] = field(default_factory=dict)
    # Called with each decoded event and its (task type, task id) pairs before
    # the tasks run, e.g. to index a session's tasks.
    on_accept: list[AcceptHook] = field(default_factory=list)
    _faust_topics: dict[str, TopicT] = field(default_factory=dict)

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
        return self.app.Table(
            name,
            default=None,
            key_type=str,
            value_type=dict,
            partitions=changelog.partitions,
            changelog_topic=changelog_topic,
            help=help,
        )

    def task_type(self, name: str) -> Callable[[Handler], Handler]:
        """Decorator: the handler of task type ``name``."""

        def register(handler: Handler) -> Handler:
            self.handlers[name] = handler
            return handler

        return register

    async def run_tasks(self, event: EventT, source: TopicSpec) -> None:
        """Decode one record and run every task it triggers; never raises."""
        msg = event.message
        try:
            envelope = decode(event.value)
            if self.topics.for_event_type(envelope.type) is not source:
                raise DecodeError("wrong_topic", f"{envelope.type} events do not belong on {source.name}")
            _check_key(msg.key, envelope)
        except DecodeError as exc:
            poison_id = task_id(INTAKE_TASK, f"{msg.topic}/{msg.partition}/{msg.offset}")
            await self.dead_letter(
                event, reason=exc.reason, error=exc.message, task_type=INTAKE_TASK, task_id=poison_id
            )
            await self.status(poison_id, INTAKE_TASK, None, TaskStatus.INVALID, error=exc.message, wait=True)
            return
        task_types = tasks_for(envelope.type)
        for hook in self.on_accept:
            await hook(envelope, [(t, task_id(t, envelope.id)) for t in task_types])
        for task_type in task_types:
            await self._run_one(event, envelope, task_type)

    async def _run_one(self, event: EventT, envelope: Envelope[Any], task_type: str) -> None:
        tid = task_id(task_type, envelope.id)
        handler = self.handlers.get(task_type)
        if handler is None:
            # A routed task type this worker does not run is a deployment bug:
            # keep the event (dead letter) rather than pretend it was handled.
            error = f"no handler for task type {task_type!r} on this worker"
            await self.dead_letter(
                event, reason="no_handler", error=error, task_type=task_type, task_id=tid, envelope=envelope
            )
            await self.status(tid, task_type, envelope, TaskStatus.DEAD, error=error, wait=True)
            return
        await self.status(tid, task_type, envelope, TaskStatus.RUNNING)
        try:
            result_ref = await handler(envelope)
        except Exception as exc:  # noqa: BLE001 - any handler failure must be recorded, not dropped
            log.warning("task %s (%s) failed: %r", tid, task_type, exc)
            await self.dead_letter(
                event,
                reason="handler_failed",
                error=repr(exc),
                task_type=task_type,
                task_id=tid,
                envelope=envelope,
                attempts=1,
                tb=traceback.format_exc(),
            )
            await self.status(
                tid, task_type, envelope, TaskStatus.DEAD, attempt=0, error=repr(exc), wait=True
            )
            return
        await self.status(tid, task_type, envelope, TaskStatus.COMPLETED, result_ref=result_ref, wait=True)

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
        fut = await self.topic(self.topics.task_status).send(
            key=tid, value=encode(new_envelope(change, source=self.worker))
        )
        if wait:
            await fut

    async def dead_letter(
        self,
        event: EventT,
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
        msg = event.message
        key = msg.key.decode("utf-8", "replace") if isinstance(msg.key, bytes) else msg.key
        raw = msg.value if isinstance(msg.value, bytes) else bytes(event.value)
        letter = DeadLetter(
            reason=reason,
            error=error[:4000],
            origin_topic=msg.topic,
            origin_partition=msg.partition,
            origin_offset=msg.offset,
            original_b64=base64.b64encode(raw).decode("ascii"),
            original_key=key,
            event_id=envelope.id if envelope else None,
            event_type=envelope.type if envelope else None,
            task_type=task_type,
            task_id=task_id,
            attempts=attempts,
            traceback=tb[-16000:] if tb else None,
        )
        log.warning("dead letter from %s[%d]@%d: %s", msg.topic, msg.partition, msg.offset, reason)
        fut = await self.topic(self.topics.dead_letter).send(
            key=key, value=encode(new_envelope(letter, source=self.worker))
        )
        await fut
