"""Many events in flight, acked in offset order, per-key order kept.

Faust commits what was acked; acking an event before every earlier one of its
partition has finished would let a crash skip the earlier ones. The runtime
therefore hands events to tasks concurrently but acks them through an
:class:`OffsetGate`, which releases a partition's acks strictly in offset
order and notices when the consumer skipped records. :class:`KeyOrder` keeps
one task type's events of one key (a session) running in arrival order, and
:class:`PriorityLimiter` bounds a task type's in-flight work while serving the
live lane first.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Admission(Enum):
    PROCESS = "process"
    DROP = "drop"
    REWIND = "rewind"


@dataclass
class _Slot:
    offset: int
    event: Any
    done: bool = False


@dataclass
class OffsetGate:
    """One partition's events in delivery order; acks flow out only from the head."""

    ack: Callable[[Any], None]
    # The offset that must come next; ``None`` until the first event sets it.
    next_offset: int | None = None
    # After a rewind, records still buffered from before it are ignored
    # until the one rewound to arrives.
    rewound_to: int | None = None
    _slots: deque[_Slot] = field(default_factory=deque)

    def admit(self, offset: int) -> Admission:
        """Whether to process the record at ``offset``.

        A record below the expected offset was admitted before (a redelivery
        of something in flight): drop it. One above it means the consumer
        skipped records: rewind to ``rewound_to``, the first one missing, and
        drop what arrives until it does.
        """
        if self.rewound_to is not None:
            if offset != self.rewound_to:
                return Admission.DROP
            self.rewound_to = None
        elif self.next_offset is not None and offset != self.next_offset:
            if offset < self.next_offset:
                return Admission.DROP
            self.rewound_to = self.next_offset
            return Admission.REWIND
        self.next_offset = offset + 1
        return Admission.PROCESS

    def skip_to(self, offset: int) -> None:
        """Accept that offsets before ``offset`` are gone (deleted by retention)."""
        self.rewound_to = None
        self.next_offset = offset

    def track(self, offset: int, event: Any) -> _Slot:
        slot = _Slot(offset, event)
        self._slots.append(slot)
        return slot

    def finish(self, slot: _Slot) -> int:
        """Mark ``slot`` done and ack every finished event at the head; returns how many."""
        slot.done = True
        acked = 0
        while self._slots and self._slots[0].done:
            head = self._slots.popleft()
            self.ack(head.event)
            head.event = None
            acked += 1
        return acked

    def abandon(self) -> list[Any]:
        """Forget every pending event without acking it (so it is read again); returns them."""
        events = [slot.event for slot in self._slots if slot.event is not None]
        for slot in self._slots:
            slot.event = None
        self._slots.clear()
        return events

    def __len__(self) -> int:
        return len(self._slots)


class KeyOrder:
    """Per key, each task waits for the previous one of the same key to finish."""

    def __init__(self) -> None:
        self._last: dict[str, asyncio.Future[None]] = {}

    def enter(self, key: str) -> tuple[asyncio.Future[None] | None, asyncio.Future[None]]:
        """Call in arrival order: returns (the predecessor to await, this task's own future)."""
        previous = self._last.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        return previous, mine

    def leave(
        self, key: str, mine: asyncio.Future[None], previous: asyncio.Future[None] | None = None
    ) -> None:
        """Hand the key's turn on; pass ``previous`` when leaving before it may have finished.

        A task cancelled while waiting for its turn (a rebalance lets go of
        queued work) must not hand the turn on before its predecessor ends:
        the next task of the key, a redelivery of that very predecessor
        perhaps, would then run beside it.
        """
        if previous is not None and not previous.done():
            previous.add_done_callback(lambda _: self.leave(key, mine))
            return
        if not mine.done():
            mine.set_result(None)
        if self._last.get(key) is mine:
            del self._last[key]

    def __len__(self) -> int:
        return len(self._last)


class PriorityLimiter:
    """``slots`` tasks at a time; waiting live tasks go first, replayed ones get a share.

    Low-priority (replayed) tasks may hold at most ``low_slots`` of the slots,
    so a backlog of them never leaves a live task waiting on more than the
    free remainder.
    """

    def __init__(self, slots: int, low_slots: int) -> None:
        if slots < 1 or not 1 <= low_slots <= slots:
            raise ValueError("slots must be positive and low_slots within 1..slots")
        self.slots = slots
        self.low_slots = low_slots
        self.in_use = 0
        self.low_in_use = 0
        self._waiting: dict[bool, deque[asyncio.Future[None]]] = {True: deque(), False: deque()}

    def _can_start(self, high: bool) -> bool:
        if self.in_use >= self.slots:
            return False
        return high or self.low_in_use < self.low_slots

    async def acquire(self, *, high: bool) -> None:
        waiting = self._waiting[high]
        if not waiting and (high or not self._waiting[True]) and self._can_start(high):
            self._take(high)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                # Granted and cancelled in the same step: hand the slot on.
                self.release(high=high)
            else:
                waiting.remove(fut)
            raise

    def _take(self, high: bool) -> None:
        self.in_use += 1
        if not high:
            self.low_in_use += 1

    def release(self, *, high: bool) -> None:
        self.in_use -= 1
        if not high:
            self.low_in_use -= 1
        self._wake()

    def _wake(self) -> None:
        for high in (True, False):
            waiting = self._waiting[high]
            while waiting and self._can_start(high):
                fut = waiting.popleft()
                if fut.done():
                    continue
                self._take(high)
                fut.set_result(None)

    @property
    def waiting(self) -> int:
        return len(self._waiting[True]) + len(self._waiting[False])
