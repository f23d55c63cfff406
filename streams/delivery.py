"""Handing a gated topic's records out and acking them in offset order.

Each partition's events go through an :class:`OffsetGate`: acks leave only
from its head, so a commit never passes work still running, and a record the
consumer skipped (see streams.consumer) is noticed and read again. On a
rebalance every event not yet acked is let go, unacked, for the next owner.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import faust
from faust.types import EventT

from streams.consumer import PipelineApp, SafeConsumer
from streams.inflight import Admission, OffsetGate

log = logging.getLogger(__name__)

# Called once an event's work is over: True acks it (in offset order), False
# leaves it unacked (its partition holds there until it is read again).
Done = Callable[[bool], None]
Starter = Callable[[EventT[Any], Done], Awaitable[None]]


@dataclass
class Delivery:
    """The events of this worker's gated topics handed out and not yet acked, per partition."""

    app: PipelineApp
    _gates: dict[Any, OffsetGate] = field(default_factory=dict)
    # False from a rebalance's start until the new assignment is known.
    _open: bool = True

    async def drive(self, stream: faust.StreamT[bytes], window: int, start: Starter) -> None:
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
            if gate is None and self._open:
                gate = self._gates[tp] = OffsetGate(ack=self.ack, next_offset=self._first_offset(tp))
            closed = gate is None or not self._open
            verdict = Admission.DROP if closed else gate.admit(event.message.offset)
            if verdict is Admission.REWIND and gate is not None:
                await self._rewind(tp, gate)
            if verdict is not Admission.PROCESS:
                self.release(event)
                event = None  # type: ignore[assignment]
                continue
            assert gate is not None
            slot = gate.track(event.message.offset, event)
            await pending.acquire()
            if self._gates.get(tp) is not gate:
                pending.release()  # a rebalance began while it waited: the next owner reads it
                self.release(event)
                event = None  # type: ignore[assignment]
                continue

            def done(ok: bool, gate: OffsetGate = gate, slot: Any = slot) -> None:
                pending.release()
                if ok:
                    gate.finish(slot)

            await start(event, done)
            event = None  # type: ignore[assignment]

    @property
    def _consumer(self) -> SafeConsumer:
        return cast(SafeConsumer, self.app.consumer)  # PipelineApp's transport makes it one

    def release(self, event: EventT[Any]) -> None:
        """Give up on an event unacked: it is read again, and Faust stops waiting for it."""
        self._consumer.release(event.message)

    def ack(self, event: EventT[Any]) -> None:
        """Count ``event`` as processed: the runtime's acks are the only ones on gated topics."""
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

    def abandon(self) -> None:
        """A rebalance began: let go of every event handed out, unacked (the next owner reads it).

        Records Faust still hands out before it stops the flow belong to the
        old assignment: they are let go too, until the new one is known.
        """
        for gate in self._gates.values():
            for event in gate.abandon():
                self.release(event)
        self._gates.clear()
        self._consumer.forget_rewinds()
        self._open = False

    async def reopen(self, _app: Any, assigned: Any, **_: Any) -> None:
        """The new assignment is known: take records again (connected to ``on_partitions_assigned``)."""
        self._open = True
