"""Faust's consumer, minus three ways it commits past events never processed.

Read in faust-streaming 0.15 (``faust/transport/consumer.py``), each of these
loses events that were accepted, most visibly after a worker crash:

1. ``_new_offset`` only refuses to commit when the lowest acked offset is more
   than one past the committed one (``min(acked) - committed > 1``), so with
   offset N still in flight and N+1 acked it commits N+2, skipping N.
2. ``_drain_messages`` treats any jump in delivered offsets as a gap left by
   compaction or transaction markers and marks the gap *and the record being
   delivered* as acked. The pipeline's topics are never compacted nor written
   transactionally, so a jump here means records were skipped (see 3), and
   acking them commits past unprocessed work.
3. ``getmany`` drops records fetched for a partition that stopped being
   active before they were handed out, while the fetch position has already
   moved past them: nothing re-reads them until the next rebalance.

4. The stream acks records it skips unprocessed (flow stopped during a
   rebalance or recovery, or a stale generation), even when acks are manual.
5. ``wait_empty`` (before a stop or a rebalance) waits for every event it
   handed out to be acked, with no deadline; and work whose events were let
   go so a rebalance need not wait for them is not waited for at all.

:class:`SafeConsumer` keeps Faust's bookkeeping but commits only up to an
unbroken run of acked offsets, ignores delivery gaps (the runtime's
:class:`streams.inflight.OffsetGate` notices them and rewinds instead), seeks a
partition back to the first record it would have dropped, on the topics the
runtime gates counts only the runtime's own acks, and bounds ``wait_empty``,
which also waits for the work the app reports still running.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP, Message

log = logging.getLogger(__name__)


class SafeConsumer(AIOKafkaConsumer):
    """The aiokafka-driver consumer with commits that never skip an offset."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rewinds: dict[TP, int] = {}
        self._acking_processed = False

    @property
    def _gated_topics(self) -> set[str]:
        return getattr(self.app, "gated_topics", set())

    def committed_offset(self, tp: TP) -> int | None:
        """The next offset to read as last committed (or found on assignment), if known."""
        return self._committed_offset.get(tp)

    def ack(self, message: Message) -> bool:
        # On gated topics only the runtime's in-order acks count: Faust's stream
        # also acks records it skips (flow stopped, stale generation) unprocessed.
        if message.topic in self._gated_topics and not self._acking_processed:
            return False
        return super().ack(message)

    def ack_processed(self, message: Message) -> bool:
        """Ack a record of a gated topic whose work is durably done."""
        self._acking_processed = True
        try:
            return super().ack(message)
        finally:
            self._acking_processed = False

    def release(self, message: Message) -> None:
        """Stop waiting for a record the runtime gave up on unacked; it will be read again.

        Faust's rebalance waits until every record it handed out is acked or
        garbage, and its stream keeps a reference to the last one it handed
        out: without this, giving that one up would hold the rebalance forever.
        """
        self._unacked_messages.discard(message)

    def rewind(self, tp: TP, offset: int) -> None:
        """Read ``tp`` again from ``offset``, before the next fetch.

        Not at once: the drain loop may still be handing out the current batch,
        and would then record a read offset past ``offset`` and drop the
        records read again as duplicates.
        """
        self._rewinds[tp] = offset

    def forget_rewinds(self) -> None:
        self._rewinds.clear()

    async def wait_empty(self) -> None:
        """Faust's wait for in-flight events before a stop or a rebalance, bounded.

        Faust waits for every event it handed out to be acked, however long
        that takes (seen: a worker still stopping 13 minutes after SIGTERM).
        After the app's ``wait_empty_grace_s`` its give-up listeners cancel what
        still runs, and those events are let go unacked: the partition's next
        owner reads them again.
        """
        # Faust's own loop, with a deadline: cancelling it from outside does not stop it.
        grace = getattr(self.app, "wait_empty_grace_s", 15.0)
        deadline = time.monotonic() + grace
        while not self.should_stop and self._unacked_messages:
            if time.monotonic() >= deadline:
                log.warning("in flight after %.0f s: cancelled, left unacked for the next owner", grace)
                self._give_up()
                break
            gc.collect()  # Faust tracks handed-out events weakly: garbage ones count as done
            await self.commit()
            if not self._unacked_messages:
                break
            await self._wait_for_ack(timeout=1)
            self._clean_unacked_messages()
        await self._wait_running(deadline)
        await self.commit_and_end_transactions()

    async def _wait_running(self, deadline: float) -> None:
        """Let work already running record its outcome before the partitions go.

        A rebalance lets go of the events of running tasks (their partition's
        next owner reads them again), but the task itself still finishes. If
        the next owner restored the status rows first, it would not see that
        task's ``completed`` row and would run the task a second time.
        """
        running = [task for source in getattr(self.app, "running_work", ()) for task in source()]
        if not running or time.monotonic() >= deadline:
            return  # nothing runs, or the grace is over and it was all cancelled
        _, pending = await asyncio.wait(running, timeout=deadline - time.monotonic())
        if pending:
            log.warning("%d task(s) still running at the end of the grace: cancelled", len(pending))
            self._give_up()

    def _give_up(self) -> None:
        """Cancel what still runs (the app's give-up listeners); its events stay unacked."""
        for listener in getattr(self.app, "give_up_listeners", ()):
            listener()
        self._unacked_messages.clear()

    def _new_offset(self, tp: TP) -> int | None:
        acked = self._acked[tp]
        committed = self._committed_offset[tp]
        # ``committed`` is the next offset to read; acked offsets must start there.
        if acked and committed is not None and min(acked) > committed and not self._gap[tp]:
            return None
        return super()._new_offset(tp)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        # Called by the drain loop on any offset jump; see the module docstring (2).
        log.debug("offset jump on %s: %d..%d not treated as acked", tp, offset_from, offset_to)

    async def accept_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Let commits pass ``offset_from..offset_to-1``, offsets that no longer exist.

        Only for records the broker deleted (retention moved the log start past
        them), never for records merely not delivered.
        """
        await super()._add_gap(tp, offset_from, offset_to - 1)

    async def _wait_next_records(self, timeout: float) -> tuple[Any, Any]:
        # Between two batches: the only point where a seek cannot race the drain loop.
        rewinds, self._rewinds = self._rewinds, {}
        for tp, offset in rewinds.items():
            if tp in self.assignment():
                await self.seek(tp, offset)
        records, active = await super()._wait_next_records(timeout)
        if records and active is not None:
            for tp in [tp for tp in records if tp not in active and tp not in self._buffered_partitions]:
                first = records.pop(tp)[0].offset
                log.info("%s paused after its records were fetched: rewinding to %d", tp, first)
                await self.seek(tp, first)
        return records, active


class PipelineApp(faust.App):
    """A Faust app that consumes with :class:`SafeConsumer` and tells listeners of rebalances."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rebalance_listeners: list[Any] = []
        # Called when in-flight events outlive ``wait_empty_grace_s``: they must let go of them.
        self.give_up_listeners: list[Any] = []
        # Report tasks still running whose events were let go: a stop or rebalance waits for them too.
        self.running_work: list[Callable[[], Iterable[asyncio.Future[Any]]]] = []
        self.wait_empty_grace_s: float = 15.0
        # Topics whose records are acked only by the runtime (SafeConsumer.ack_processed).
        self.gated_topics: set[str] = set()

    def _new_transport(self) -> Any:
        transport = super()._new_transport()
        transport.Consumer = SafeConsumer
        return transport

    def on_rebalance_start(self) -> None:
        # Called synchronously, before Faust waits for in-flight events to be
        # acked: listeners let go of events not yet started so it need not wait.
        super().on_rebalance_start()
        for listener in self.rebalance_listeners:
            listener()
