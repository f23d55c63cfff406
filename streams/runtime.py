"""The task runtime: how every task type is run on Faust.

Faust gives agents, tables and offset commits; this module adds what it does
not: statuses, retries that never block a partition, dead letters, in-flight
limits with per-key order, timeouts and skipping work already done. Known
Faust behaviour it designs around:

- An exception raised in an agent acks (and so commits past) its event: no
  handler error ever escapes; it becomes a retry or a dead letter.
- ``concurrency>1`` can commit past in-flight work (issue 606), and Faust's
  consumer can commit past records never processed in several ways
  (``streams/consumer.py``): the runtime keeps one agent per input topic and
  lane, runs many tasks at once itself, and acks through an ``OffsetGate`` in
  offset order, so an offset is committed only after every earlier event's
  outcomes are durable.
- ``exactly_once`` has open bugs (440, 517, 323): the runtime is at-least-once
  and makes effects idempotent by task id instead.

A failed task never holds its partition: it is republished to a retry tier
topic and the partition moves on; after its last attempt it is dead-lettered.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import logging
import os
import random
import socket
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import faust
from aiokafka.errors import KafkaError
from faust.types import EventT, TopicT

from feynman.errors import DecodeError, PermanentTaskError
from feynman.settings import Settings
from schemas.envelope import Envelope, decode, encode, new_envelope, ordering_key
from schemas.events import DeadLetter, TaskRetry, TaskStatusChanged
from schemas.status import generation
from schemas.tasks import INTAKE_TASK, TASK_ROUTES, TaskStatus, task_id
from schemas.topics import Topics, TopicSpec
from streams.consumer import PipelineApp, SafeConsumer
from streams.expiry import TableExpiry, current_partition, stored_partition
from streams.inflight import Admission, KeyOrder, OffsetGate, PriorityLimiter
from streams.status_table import StatusTable
from streams.task_metrics import TaskMetrics
from streams.tasks import TaskContext, TaskType
from streams.writes import Writes, collecting, track

log = logging.getLogger(__name__)

# Called once an event's work is over: True acks it (in offset order), False
# leaves it unacked (its partition holds there until it is read again).
Done = Callable[[bool], None]
EventHandler = Callable[[EventT[Any]], Awaitable[None]]
Starter = Callable[[EventT[Any], Done], Awaitable[None]]
JITTER = 0.2
T = TypeVar("T")
# Work whose records were not acknowledged is done again after these pauses
# (doubling); errors other than Kafka's give up after REDO_ATTEMPTS tries.
REDO_FIRST_DELAY_S = 0.2
REDO_MAX_DELAY_S = 5.0
REDO_ATTEMPTS = 5
# A dead letter keeps the original record whole up to this size, else a preview
# of PREVIEW_BYTES: base64 grows it by a third, and a request must stay under 1 MB.
DEAD_LETTER_WHOLE_BYTES = 512 * 1024
PREVIEW_BYTES = 4096
# A task still running after this long gets a ``running`` status of its own.
RUNNING_AFTER_S = 0.5
# What _run_handler returns once a failure is recorded (None is a valid result reference).
_FAILED: Any = object()


class StrKeyTable(faust.Table):
    """A table whose keys are raw UTF-8, like the keys of the topics it mirrors.

    Faust writes a row with the table's serializers but restores it with its
    changelog topic's; a ``str`` key would be written as JSON (``"id"``) and
    come back quoted, losing every row on restart. Raw keys also hash like the
    status topic's keys, so ``table_route`` finds the worker that owns a task.
    """

    def _serializer_from_type(self, typ: Any) -> Any:
        return "raw" if typ is str else super()._serializer_from_type(typ)

    def send_changelog(
        self,
        partition: int | None,
        key: Any,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Any:
        # Every row write's own send future joins the current work's writes,
        # awaited before the input that caused it is acked (streams/writes.py).
        future = super().send_changelog(partition, key, value, key_serializer, value_serializer)
        track(self, key, future)
        return future

    def resend(self, key: Any, partition: int | None) -> Any:
        """Send ``key``'s current value (a tombstone if deleted) again, to the same partition."""
        return super().send_changelog(partition, key, self.get(key))


class StrKeyGlobalTable(StrKeyTable, faust.GlobalTable):
    """A :class:`StrKeyTable` every worker holds in full (all partitions)."""


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
        value = msg.value if msg.value is not None else event.value
        # A tombstone (null value) has no bytes; it is dead-lettered as ``null_value``.
        raw = b"" if value is None else value if isinstance(value, bytes) else bytes(value)
        return cls(msg.topic, msg.partition, msg.offset, key, raw)


async def _ignore_redo(work: Callable[..., Awaitable[None]], *args: Any) -> None:
    """``work(*args)`` as a :meth:`Runtime._persist` step that does the same on a redo."""
    await work(*args[:-1])


async def _wait(task: asyncio.Task[None]) -> None:
    await asyncio.wait([task])


@dataclass
class _Runner:
    """One task type on this worker: its in-flight limit and its per-key order."""

    task_type: TaskType
    limiter: PriorityLimiter
    order: KeyOrder


def check_key(key: str | None, envelope: Envelope[Any]) -> None:
    """The record's key must be the event's ordering key (docs/architecture.md, contract 2).

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

    app: PipelineApp
    settings: Settings
    topics: Topics
    routes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(TASK_ROUTES))
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    task_types: dict[str, TaskType] = field(default_factory=dict)
    metrics: TaskMetrics = field(default_factory=TaskMetrics)
    _faust_topics: dict[str, TopicT] = field(default_factory=dict)
    # The task_status table (streams/status_table.py installs it).
    statuses: StatusTable | None = None
    _cache: faust.Table | None = None
    _runners: dict[str, _Runner] = field(default_factory=dict)
    _gates: dict[Any, OffsetGate] = field(default_factory=dict)
    # Tasks not yet holding a slot (cancelled on rebalance) and event coroutines.
    _queued: set[asyncio.Task[None]] = field(default_factory=set)
    _event_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _rebalanced: asyncio.Event = field(default_factory=asyncio.Event)
    _intake_open: bool = True
    # Rows with a retention; task types register their tables before install().
    expiry: TableExpiry = field(init=False)

    def __post_init__(self) -> None:
        self.expiry = TableExpiry(self)

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

    def table(
        self,
        name: str,
        changelog: TopicSpec,
        *,
        help: str,
        table_class: type[faust.Table] = StrKeyTable,
        value_serializer: str = "json",
    ) -> faust.Table:
        """A changelog-backed table whose changelog is the declared topic."""
        changelog_topic = self.app.topic(
            changelog.name,
            key_type=str,
            key_serializer="raw",
            value_serializer=value_serializer,
            partitions=changelog.partitions,
            replicas=changelog.replication_factor,
            internal=True,
            compacting=True,
            config=changelog.config(),
        )
        table = table_class(
            self.app,
            name=name,
            default=None,
            key_type=str,
            # No value_type: rows are plain JSON objects (``dict`` would make
            # the RocksDB store look for a Faust model's ``from_data``).
            partitions=changelog.partitions,
            changelog_topic=changelog_topic,
            help=help,
        )
        table.value_serializer = value_serializer  # Faust derives it from value_type otherwise
        return cast(faust.Table, self.app.tables.add(table))

    def add_task_types(self, task_types: Sequence[TaskType]) -> None:
        for task_type in task_types:
            self.task_types[task_type.name] = task_type

    # --- agents ---------------------------------------------------------------

    def install(self) -> None:
        """One agent per input topic and lane, and one per retry tier."""
        self._cache = self.table(
            "result_cache",
            self.topics.result_cache_changelog,
            help="Results by task type and input hash, shared by every worker.",
            table_class=StrKeyGlobalTable,
        )
        self.expiry.register(self._cache, self._outlived, stored_partition)
        self.expiry.install()
        for name, task_type in self.task_types.items():
            self._runners[name] = _Runner(
                task_type, PriorityLimiter(task_type.concurrency, task_type.replay_slots), KeyOrder()
            )
        self.app.rebalance_listeners.append(self._abandon)
        self.app.give_up_listeners.append(self._cancel_in_flight)
        self.app.wait_empty_grace_s = self.settings.worker_stop_grace_s
        self.app.on_partitions_assigned.connect(self._reopen_intake)
        sources = {
            self.topics.for_event_type(event_type).name: self.topics.for_event_type(event_type)
            for event_type in self.routes
        }
        live_window = self.settings.worker_max_pending
        for spec in sources.values():
            self._install_source(spec, name=spec.name.rsplit(".", 1)[-1], high=True, window=live_window)
        self._install_source(self.topics.replay, name="replay", high=False, window=max(1, live_window // 4))
        for spec in self.topics.retry_tiers:
            self._install_retry_agent(spec, window=live_window)

    def gated_topic(self, spec: TopicSpec) -> TopicT:
        """The topic of an agent that acks with :meth:`ack` once work is done; no other ack counts."""
        self.app.gated_topics.add(spec.name)
        return self.topic(spec)

    def serial_agent(self, spec: TopicSpec, name: str, handle: EventHandler) -> None:
        """An agent that handles one record at a time and acks it only once its writes are durable.

        Faust's own acks would also count records it skipped during recovery
        (see streams.consumer), so the topic is gated. A handler that raises is
        run again in place; a record it still fails on is dead-lettered, so no
        record stops the partition.
        """

        async def handle_durably(event: EventT[Any], redo: bool) -> None:
            with collecting() as writes:
                await handle(event)
                await writes.durable()

        async def give_up(event: EventT[Any], exc: Exception) -> None:
            await self.poison(event, "handler_error", f"{name}: {exc!r}")

        @self.app.agent(self.gated_topic(spec), name=name)
        async def serial(stream: faust.StreamT[bytes]) -> None:
            async for event in stream.noack().events():
                try:
                    await self._persist(
                        functools.partial(handle_durably, event),
                        name,
                        give_up=functools.partial(give_up, event),
                    )
                except Exception:  # noqa: BLE001 - the partition was given up: its next owner reads it
                    self._release(event)
                    continue
                self.ack(event)

    async def _persist(
        self,
        work: Callable[[bool], Awaitable[T]],
        what: str,
        *,
        give_up: Callable[[Exception], Awaitable[Any]] | None = None,
    ) -> T | None:
        """Run ``work`` until it succeeds.

        A failed send, or any other error escaping ``work``, runs it again in
        place after a pause (``work(redo=True)``): the input stays unacked and
        keeps its key's turn, so per-key order holds. Kafka's errors are tried
        again for as long as they last (the broker is away); any other error
        ``REDO_ATTEMPTS`` times, then ``give_up`` dead-letters the input. Raises
        when the partition was given up meanwhile (rebalance, stop). Returns what
        ``work`` returned (None once given up to a dead letter).
        """
        rebalanced = self._rebalanced
        delay = REDO_FIRST_DELAY_S
        attempts = 0
        redo = False
        while True:
            try:
                return await work(redo)
            except Exception as exc:
                attempts += 1
                if rebalanced.is_set():
                    raise
                self.metrics.redone[what] += 1
                if give_up is not None and not isinstance(exc, KafkaError) and attempts >= REDO_ATTEMPTS:
                    log.exception("%s failed %d times; dead-lettering its input", what, attempts)
                    await self._persist(functools.partial(_ignore_redo, give_up, exc), f"{what}:dead_letter")
                    return None
                log.warning("%s not recorded (%r); doing it again in %.1f s", what, exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(rebalanced.wait(), delay)
                if rebalanced.is_set():
                    raise
                delay = min(delay * 2, REDO_MAX_DELAY_S)
                redo = True

    def _install_source(self, spec: TopicSpec, *, name: str, high: bool, window: int) -> None:
        @self.app.agent(self.gated_topic(spec), name=name)
        async def source(stream: faust.StreamT[bytes]) -> None:
            async def start(event: EventT[Any], done: Done) -> None:
                self._spawn(self._event(event, spec, high=high), done)

            await self._drive(stream, window, start)

    async def _drive(self, stream: faust.StreamT[bytes], window: int, start: Starter) -> None:
        """Hand the stream's events to ``start``, each with the callback that acks it in turn.

        Up to ``window`` events are in flight; each is acked once it and every
        earlier event of its partition finished, so a commit never passes work
        still running, and a record the consumer skipped is read again. No
        reference to an event outlives its work: Faust's rebalance waits until
        every event it handed out is acked or garbage.
        """
        pending = asyncio.Semaphore(window)
        async for event in stream.noack().events():
            tp = event.message.tp
            gate = self._gates.get(tp)
            if gate is None and self._intake_open:
                gate = self._gates[tp] = OffsetGate(ack=self.ack, next_offset=self._first_offset(tp))
            closed = gate is None or not self._intake_open
            verdict = Admission.DROP if closed else gate.admit(event.message.offset)
            if verdict is Admission.REWIND and gate is not None:
                await self._rewind(tp, gate)
            if verdict is not Admission.PROCESS:
                self._release(event)
                event = None  # type: ignore[assignment]
                continue
            assert gate is not None
            slot = gate.track(event.message.offset, event)
            await pending.acquire()
            if self._gates.get(tp) is not gate:
                pending.release()  # a rebalance began while it waited: the next owner reads it
                self._release(event)
                event = None  # type: ignore[assignment]
                continue

            def done(ok: bool, gate: OffsetGate = gate, slot: Any = slot) -> None:
                pending.release()
                if ok:
                    gate.finish(slot)

            await start(event, done)
            event = None  # type: ignore[assignment]

    def _spawn(self, work: Coroutine[Any, Any, None], done: Done) -> None:
        task = asyncio.ensure_future(work)
        self._event_tasks.add(task)

        def finished(task: asyncio.Task[None]) -> None:
            self._event_tasks.discard(task)
            ok = not task.cancelled() and task.exception() is None
            if not ok and not task.cancelled():
                # Work is redone until recorded (_persist) and gives up only when
                # its partition was given up: the event stays unacked, for the next owner.
                log.warning("event given up unacked: %r", task.exception())
            done(ok)

        task.add_done_callback(finished)

    @property
    def _consumer(self) -> SafeConsumer:
        return cast(SafeConsumer, self.app.consumer)  # PipelineApp's transport makes it one

    def _release(self, event: EventT[Any]) -> None:
        """Give up on an event unacked: it is read again, and Faust stops waiting for it."""
        self._consumer.release(event.message)

    def ack(self, event: EventT[Any]) -> None:
        self._consumer.ack_processed(event.message)

    def _first_offset(self, tp: Any) -> int | None:
        return self._consumer.committed_offset(tp)

    async def _rewind(self, tp: Any, gate: OffsetGate) -> None:
        """Read again from the first record skipped, or past it if the broker deleted it."""
        missing = gate.rewound_to
        consumer = self._consumer
        if missing is None:
            return
        start = (await consumer.earliest_offsets(tp)).get(tp, 0)
        if start > missing:
            log.error("%s: offsets %d..%d were deleted before being processed", tp, missing, start - 1)
            await consumer.accept_gap(tp, missing, start)
            gate.skip_to(start)
            gate.rewound_to = missing = start
        log.warning("%s: records from %d were skipped by the consumer; reading them again", tp, missing)
        consumer.rewind(tp, missing)

    def _abandon(self) -> None:
        """A rebalance began: let go of every event not yet running, unacked.

        Faust waits for the events it handed out to be acked before it gives
        partitions up; tasks still queued behind a key or an in-flight limit
        are cancelled instead, so they are read again by the next owner rather
        than holding the rebalance up. Running tasks finish, but ack nothing.
        """
        for gate in self._gates.values():
            for event in gate.abandon():
                self._release(event)
        self._gates.clear()
        self._consumer.forget_rewinds()
        for task in list(self._queued):
            task.cancel()
        self._rebalanced.set()
        self._rebalanced = asyncio.Event()
        # Records Faust still hands out before it stops the flow belong to the
        # old assignment: they are let go too, until the new one is known.
        self._intake_open = False

    def _cancel_in_flight(self) -> None:
        """Stop or rebalance outlived its grace: cancel every event still running, unacked."""
        self._abandon()
        for task in list(self._event_tasks):
            task.cancel()

    async def _reopen_intake(self, _app: Any, assigned: Any, **_: Any) -> None:
        self._intake_open = True

    async def _event(self, event: EventT[Any], source: TopicSpec, *, high: bool) -> None:
        """Dead-letter a poison record, or run every task the event triggers."""
        origin = Origin.of(event)
        try:
            envelope = self.validate(event, source, origin)
        except DecodeError as exc:
            await self._persist(functools.partial(_ignore_redo, self.reject, event, exc), INTAKE_TASK)
            return
        names = self.routes.get(envelope.type, ())
        units = [
            self._unit(name, envelope, origin, attempt=0, high=high) for name in self._by_priority(names)
        ]
        if units:
            # A unit that could not record its outcome raises: the event is not acked.
            await asyncio.gather(*units)

    def _by_priority(self, names: Sequence[str]) -> list[str]:
        def rank(name: str) -> int:
            runner = self._runners.get(name)
            return runner.task_type.priority if runner else 0

        return sorted(names, key=rank)

    def _unit(
        self, name: str, envelope: Envelope[Any], origin: Origin, *, attempt: int, high: bool
    ) -> asyncio.Task[None]:
        """Start one task of the event now, in arrival order, so per-key order holds."""
        runner = self._runners.get(name)
        if runner is None:
            return asyncio.ensure_future(
                self._persist(functools.partial(_ignore_redo, self._no_handler, name, envelope, origin), name)
            )
        key = origin.key or envelope.id
        previous, mine = runner.order.enter(key) if runner.task_type.ordered else (None, None)

        def leave() -> None:
            if mine is not None:
                runner.order.leave(key, mine)

        task = asyncio.ensure_future(self._run_unit(runner, envelope, origin, attempt, high, previous, leave))
        self._queued.add(task)

        def finished(_: asyncio.Task[None]) -> None:
            self._queued.discard(task)
            leave()

        task.add_done_callback(finished)
        return task

    async def _run_unit(
        self,
        runner: _Runner,
        envelope: Envelope[Any],
        origin: Origin,
        attempt: int,
        high: bool,
        previous: asyncio.Future[None] | None,
        leave: Callable[[], None],
    ) -> None:
        """Run the task in its turn and slot; then, with both given up, wait until its rows are durable.

        The next task of the key and type may start as soon as this one's rows
        are sent: Kafka keeps their order within a partition, and the event is
        acked only once they are acknowledged (a refused one is sent again).
        """
        rebalanced = self._rebalanced
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await runner.limiter.acquire(high=high)
            task = asyncio.current_task()
            self._queued.discard(task)  # type: ignore[arg-type]
            try:
                writes = await self._persist(
                    functools.partial(
                        self.execute, runner.task_type, envelope, attempt=attempt, origin=origin
                    ),
                    runner.task_type.name,
                    give_up=functools.partial(self._unrecorded, runner.task_type, envelope, origin, attempt),
                )
            finally:
                runner.limiter.release(high=high)
        finally:
            leave()
        if writes is not None:
            await writes.durable(rebalanced)
            self.metrics.redone[runner.task_type.name] += writes.resent

    async def _unrecorded(
        self, task_type: TaskType, envelope: Envelope[Any], origin: Origin, attempt: int, exc: Exception
    ) -> None:
        """Dead-letter a task whose outcome the runtime failed to record (a bug, not the handler's)."""
        tid = task_id(task_type.name, envelope.id)
        error = f"the runtime could not record this task's outcome: {exc!r}"
        await self.dead_letter(
            origin, reason="unrecorded", error=error, task_type=task_type.name, task_id=tid, envelope=envelope
        )
        await self.status(
            tid, task_type.name, envelope, TaskStatus.DEAD, attempt=attempt, error=error, wait=True
        )

    async def _no_handler(self, name: str, envelope: Envelope[Any], origin: Origin) -> None:
        # A routed task type this worker does not run is a deployment bug:
        # keep the event (dead letter) rather than pretend it was handled.
        error = f"no handler for task type {name!r} on this worker"
        tid = task_id(name, envelope.id)
        await self.dead_letter(
            origin, reason="no_handler", error=error, task_type=name, task_id=tid, envelope=envelope
        )
        await self.status(tid, name, envelope, TaskStatus.DEAD, error=error, wait=True)

    async def reject(self, event: EventT[Any], exc: DecodeError) -> None:
        """Dead-letter a poison record and mark its intake task invalid."""
        poison_id = await self.poison(event, exc.reason, exc.message)
        await self.status(poison_id, INTAKE_TASK, None, TaskStatus.INVALID, error=exc.message, wait=True)

    def validate(self, event: EventT[Any], source: TopicSpec, origin: Origin) -> Envelope[Any]:
        if event.message.value is None:
            raise DecodeError("null_value", "the record's value is null (a tombstone), not an envelope")
        if len(origin.raw) > self.settings.max_record_bytes:
            raise DecodeError(
                "too_large",
                f"the record is {len(origin.raw)} bytes, over the {self.settings.max_record_bytes} "
                "bytes an input record may have (FEYNMAN_MAX_RECORD_BYTES)",
            )
        envelope = decode(origin.raw)
        if source is not self.topics.replay and self.topics.for_event_type(envelope.type) is not source:
            raise DecodeError("wrong_topic", f"{envelope.type} events do not belong on {source.name}")
        check_key(origin.key, envelope)
        return envelope

    def _install_retry_agent(self, spec: TopicSpec, *, window: int) -> None:
        @self.app.agent(self.gated_topic(spec), name=f"retry-{spec.name.rsplit('-', 1)[-1]}")
        async def retry_agent(stream: faust.StreamT[bytes]) -> None:
            # Records are waited for one at a time: every record in a tier waits
            # about as long, so records behind the head are due no earlier (±jitter).
            await self._drive(stream, window, functools.partial(self._retry_when_due, spec))

    async def _retry_when_due(self, spec: TopicSpec, event: EventT[Any], done: Done) -> None:
        try:
            retry, origin, envelope = self._retry_record(event, spec)
        except DecodeError as exc:
            self._spawn(self.reject(event, exc), done)
            return
        rebalanced = self._rebalanced
        wait = (retry.due_at - datetime.now(UTC)).total_seconds()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rebalanced.wait(), wait)
        if rebalanced.is_set():
            return  # given up with its partition: the next owner reads it again
        unit = self._unit(retry.task_type, envelope, origin, attempt=retry.attempt, high=True)
        self._spawn(_wait(unit), done)

    def _retry_record(self, event: EventT[Any], spec: TopicSpec) -> tuple[TaskRetry, Origin, Envelope[Any]]:
        try:
            record = decode(event.value)
            if not isinstance(record.data, TaskRetry):
                raise DecodeError("wrong_topic", f"{record.type} events do not belong on {spec.name}")
            retry = record.data
            raw = base64.b64decode(retry.original_b64)
            envelope = decode(raw)
        except ValueError as exc:
            raise DecodeError("bad_retry_record", str(exc)) from exc
        origin = Origin(
            retry.origin_topic, retry.origin_partition, retry.origin_offset, retry.original_key, raw
        )
        return retry, origin, envelope

    # --- one task -------------------------------------------------------------

    async def execute(
        self,
        task_type: TaskType,
        envelope: Envelope[Any],
        redo: bool = False,
        *,
        attempt: int,
        origin: Origin,
    ) -> Writes:
        """Run one attempt and record its outcome; returns the rows still to be acknowledged.

        The outcome is recorded in an order a crash can stop anywhere: the
        handler's table rows are acknowledged first, then its status row is
        sent; the caller awaits that row before the event may be acked. A
        failure is recorded as a retry or a dead letter, awaited here. Raises
        only if a record could not be sent; ``redo`` is the pass after that
        (``_persist``), which sends a ``completed`` row it finds again.
        """
        tid = task_id(task_type.name, envelope.id)
        statuses = self._statuses
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
                await writes.durable(self._rebalanced)
            await self.status(
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
        assert self._cache is not None
        cache_key = self._cache_key(task_type, envelope)
        cached = self._cache.get(cache_key) if cache_key else None
        if cached is not None and self._outlived(cached, datetime.now(UTC)) is None:
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
            self._cache[cache_key] = {
                "result_ref": result_ref,
                "task_id": tid,
                "at": datetime.now(UTC).isoformat(),
                "partition": current_partition(self._cache, cache_key),
            }
        return result_ref

    def _report_running(
        self, tid: str, task_type: str, envelope: Envelope[Any], attempt: int, started_at: datetime
    ) -> None:
        """A slow task's ``running`` row; its send joins the task's writes (the call keeps its context)."""
        self.record_status(
            tid, task_type, envelope, TaskStatus.RUNNING, attempt=attempt, started_at=started_at
        )

    @property
    def _statuses(self) -> StatusTable:
        assert self.statuses is not None, "status_table.install(rt) declares the task_status table"
        return self.statuses

    def _outlived(self, row: dict[str, Any], now: datetime) -> dict[str, Any] | None:
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
            fut = await self.topic(tier).send(
                key=origin.key, value=encode(new_envelope(retry, source=self.worker))
            )
            await fut
            await self.status(
                tid, task_type.name, envelope, TaskStatus.RETRYING, attempt=attempt, error=error, wait=True
            )
            return
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

    def record_status(
        self,
        tid: str,
        task_type: str,
        envelope: Envelope[Any] | None,
        status: TaskStatus,
        *,
        attempt: int = 0,
        error: str | None = None,
        result_ref: str | None = None,
        started_at: datetime | None = None,
    ) -> None:
        """Record one status transition as the task's row; its send joins the current work's writes.

        Written in the partition of the event being processed (the task's input),
        unless the row already holds a transition that supersedes it.
        """
        self.metrics.transitions[status.value, task_type] += 1
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
            replay_id=envelope.replay_id if envelope else None,
            created_at=envelope.ts if envelope else None,
            started_at=started_at,
            partition=current_partition(self._statuses.table, tid),
        )
        self._statuses.record(new_envelope(change, source=self.worker))

    async def status(self, *args: Any, wait: bool = False, **kwargs: Any) -> None:
        """:meth:`record_status`; with ``wait``, return once Kafka acknowledged the row."""
        if not wait:
            self.record_status(*args, **kwargs)
            return
        with collecting() as writes:
            self.record_status(*args, **kwargs)
            await writes.durable(self._rebalanced)

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
        # A record too large to copy whole keeps a preview: the letter must fit one request.
        kept = origin.raw if len(origin.raw) <= DEAD_LETTER_WHOLE_BYTES else origin.raw[:PREVIEW_BYTES]
        letter = DeadLetter(
            reason=reason,
            error=error[:4000],
            origin_topic=origin.topic,
            origin_partition=origin.partition,
            origin_offset=origin.offset,
            original_b64=base64.b64encode(kept).decode("ascii"),
            original_key=origin.key,
            original_bytes=len(origin.raw),
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
