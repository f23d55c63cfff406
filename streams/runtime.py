"""The task runtime: when and where every task of every event runs, on Faust.

Faust gives agents, tables and commits; the runtime adds one agent per input
topic and lane and per retry tier, in-flight limits per task type with
per-key order, live work ahead of replayed work, and letting go of work
cleanly when a rebalance or a stop takes partitions away. Its parts:

- ``streams.delivery``: records handed out and acked in offset order;
- ``streams.execution``: one attempt of one task, and how it ended;
- ``streams.outcomes``: status rows and dead letters;
- ``streams.redo``: work whose records Kafka refused, done again in place;
- ``streams.intake``, ``streams.declarations``: input records; topics and tables as Faust's.

docs/runtime.md lists the Faust behaviour it designs around.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust
from faust.types import EventT, TopicT

from foundation.errors import DecodeError
from foundation.settings import Settings
from schemas.envelope import Envelope
from schemas.tasks import INTAKE_TASK, TASK_ROUTES
from schemas.topics import Topics, TopicSpec
from streams.consumer import PipelineApp
from streams.declarations import StrKeyGlobalTable, declare_table, declare_topic
from streams.delivery import Delivery, Done
from streams.execution import Executor
from streams.expiry import TableExpiry, stored_partition
from streams.inflight import KeyOrder, PriorityLimiter
from streams.intake import Origin, retry_record, validate
from streams.outcomes import Outcomes
from streams.redo import GiveUp, until_recorded
from streams.task_metrics import TaskMetrics
from streams.tasks import TaskType
from streams.web_auth import Handler, guarded_page
from streams.writes import collecting

log = logging.getLogger(__name__)

EventHandler = Callable[[EventT[Any]], Awaitable[None]]
T = TypeVar("T")


@dataclass
class _Runner:
    """One task type on this worker: its in-flight limit and its per-key order."""

    task_type: TaskType
    limiter: PriorityLimiter
    order: KeyOrder


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
    _runners: dict[str, _Runner] = field(default_factory=dict)
    # Every task of an event not yet done; those not yet holding a slot (cancelled
    # on rebalance); and event coroutines.
    _units: set[asyncio.Task[None]] = field(default_factory=set)
    _queued: set[asyncio.Task[None]] = field(default_factory=set)
    _event_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _rebalanced: asyncio.Event = field(default_factory=asyncio.Event)
    # Rows with a retention; task types register their tables before install().
    expiry: TableExpiry = field(init=False)
    # Status rows and dead letters; one attempt of one task.
    outcomes: Outcomes = field(init=False)
    executor: Executor = field(init=False)
    # Events handed out and not yet acked, per partition, acked in offset order.
    delivery: Delivery = field(init=False)

    def __post_init__(self) -> None:
        self.expiry = TableExpiry(self)
        self.delivery = Delivery(self.app)

        def given_up() -> asyncio.Event:
            return self._rebalanced

        self.outcomes = Outcomes(self.worker, self.metrics, self.topics, self.send, given_up)
        self.executor = Executor(
            self.settings, self.topics, self.worker, self.metrics, self.outcomes, self.send, given_up
        )

    # --- declarations -------------------------------------------------------

    def topic(self, spec: TopicSpec, *, internal: bool = False) -> TopicT:
        """The Faust topic for a declared topic, made once (``streams.declarations.declare_topic``)."""
        if spec.name not in self._faust_topics:
            self._faust_topics[spec.name] = declare_topic(self.app, spec, internal=internal)
        return self._faust_topics[spec.name]

    def table(self, name: str, changelog: TopicSpec, **options: Any) -> faust.Table:
        """A changelog-backed table of this worker's app (``streams.declarations.declare_table``)."""
        return declare_table(self.app, name, changelog, **options)

    def page(self, path: str, **route: Any) -> Callable[[Handler], Any]:
        """A web route of this worker, behind the worker key (``streams.web_auth.guarded_page``)."""
        return guarded_page(self.app, path, self.settings.worker_api_key, **route)

    async def send(self, spec: TopicSpec, key: str | None, value: bytes) -> None:
        """Send a record to a declared topic; return once Kafka acknowledged it."""
        fut = await self.topic(spec).send(key=key, value=value)
        await fut

    def add_task_types(self, task_types: Sequence[TaskType]) -> None:
        for task_type in task_types:
            self.task_types[task_type.name] = task_type

    # --- agents ---------------------------------------------------------------

    def install(self) -> None:
        """One agent per input topic and lane, and one per retry tier."""
        cache = self.executor.cache = self.table(
            "result_cache",
            self.topics.result_cache_changelog,
            help="Results by task type and input hash, shared by every worker.",
            table_class=StrKeyGlobalTable,
        )
        self.expiry.register(cache, self.executor.outlived, stored_partition)
        self.expiry.install()
        for name, task_type in self.task_types.items():
            self._runners[name] = _Runner(
                task_type, PriorityLimiter(task_type.concurrency, task_type.replay_slots), KeyOrder()
            )
        self.app.rebalance_listeners.append(self._abandon)
        self.app.give_up_listeners.append(self._cancel_in_flight)
        self.app.running_work.append(lambda: list(self._units))
        self.app.wait_empty_grace_s = self.settings.worker_stop_grace_s
        self.app.on_partitions_assigned.connect(self.delivery.reopen)
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

        async def handle_durably(event: EventT[Any]) -> None:
            with collecting() as writes:
                await handle(event)
                await writes.durable()

        async def give_up(event: EventT[Any], exc: Exception) -> None:
            await self.outcomes.poison(event, "handler_error", f"{name}: {exc!r}")

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
                    self.delivery.release(event)
                    continue
                self.delivery.ack(event)

    async def _persist(
        self, work: Callable[[], Awaitable[T]], what: str, *, give_up: GiveUp | None = None
    ) -> T | None:
        """``work`` done again in place until recorded (streams/redo.py), for this assignment."""
        return await until_recorded(
            work, what, given_up=self._rebalanced, metrics=self.metrics, give_up=give_up
        )

    def _install_source(self, spec: TopicSpec, *, name: str, high: bool, window: int) -> None:
        @self.app.agent(self.gated_topic(spec), name=name)
        async def source(stream: faust.StreamT[bytes]) -> None:
            async def start(event: EventT[Any], done: Done) -> None:
                self._spawn(self._event(event, spec, high=high), done)

            await self.delivery.drive(stream, window, start)

    def _spawn(self, work: Awaitable[Any], done: Done) -> None:
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

    def _abandon(self) -> None:
        """A rebalance began: let go of every event not yet running, unacked.

        Tasks still queued behind a key or an in-flight limit are cancelled,
        so the next owner reads them again rather than the rebalance waiting
        for them. Running tasks finish and ack nothing; the partitions go
        once their rows are acknowledged (``PipelineApp.running_work``).
        """
        self.delivery.abandon()
        for task in list(self._queued):
            task.cancel()
        self._rebalanced.set()
        self._rebalanced = asyncio.Event()

    def _cancel_in_flight(self) -> None:
        """Stop or rebalance outlived its grace: cancel every event still running, unacked."""
        self._abandon()
        for task in [*self._event_tasks, *self._units]:
            task.cancel()

    async def _event(self, event: EventT[Any], source: TopicSpec, *, high: bool) -> None:
        """Dead-letter a poison record, or run every task the event triggers."""
        origin = Origin.of(event)
        try:
            envelope = validate(event, origin, source, self.topics, self.settings.max_record_bytes)
        except DecodeError as exc:
            await self._persist(functools.partial(self.outcomes.reject, event, exc), INTAKE_TASK)
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
            return self._track(
                self._persist(
                    functools.partial(
                        # A routed task type this worker does not run is a deployment bug:
                        # keep the event (dead letter) rather than pretend it was handled.
                        self.outcomes.dead,
                        name,
                        envelope,
                        origin,
                        reason="no_handler",
                        error=f"no handler for task type {name!r} on this worker",
                    ),
                    name,
                )
            )
        key = origin.key or envelope.id
        previous, mine = runner.order.enter(key) if runner.task_type.ordered else (None, None)

        def leave() -> None:
            if mine is not None:
                runner.order.leave(key, mine, previous)

        task = self._track(self._run_unit(runner, envelope, origin, attempt, high, previous, leave))
        self._queued.add(task)

        def finished(_: asyncio.Task[None]) -> None:
            self._queued.discard(task)
            leave()

        task.add_done_callback(finished)
        return task

    def _track(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Start a task of an event; a stop or rebalance waits for it once it runs (see streams.consumer)."""
        task = asyncio.ensure_future(work)
        self._units.add(task)
        task.add_done_callback(self._units.discard)
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
                        self.executor.execute, runner.task_type, envelope, attempt=attempt, origin=origin
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
        error = f"the runtime could not record this task's outcome: {exc!r}"
        await self.outcomes.dead(
            task_type.name, envelope, origin, reason="unrecorded", error=error, attempt=attempt
        )

    def _install_retry_agent(self, spec: TopicSpec, *, window: int) -> None:
        @self.app.agent(self.gated_topic(spec), name=f"retry-{spec.name.rsplit('-', 1)[-1]}")
        async def retry_agent(stream: faust.StreamT[bytes]) -> None:
            # Records are waited for one at a time: every record in a tier waits
            # about as long, so records behind the head are due no earlier (±jitter).
            await self.delivery.drive(stream, window, functools.partial(self._retry_when_due, spec))

    async def _retry_when_due(self, spec: TopicSpec, event: EventT[Any], done: Done) -> None:
        try:
            retry, origin, envelope = retry_record(event, spec)
        except DecodeError as exc:
            self._spawn(self.outcomes.reject(event, exc), done)
            return
        rebalanced = self._rebalanced
        wait = (retry.due_at - datetime.now(UTC)).total_seconds()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rebalanced.wait(), wait)
        if rebalanced.is_set():
            return  # given up with its partition: the next owner reads it again
        unit = self._unit(retry.task_type, envelope, origin, attempt=retry.attempt, high=True)
        self._spawn(asyncio.wait([unit]), done)


__all__ = ["Runtime"]
