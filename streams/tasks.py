"""What a task type declares: its handler and how it is run.

Adding a task type is a :class:`TaskType` with a plain async handler, passed
to :func:`streams.app.create_app`; which events trigger it is routed in
``schemas.tasks.TASK_ROUTES`` (the API derives task ids from the same table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from foundation.errors import PermanentTaskError
from schemas.envelope import Envelope


class Priority(IntEnum):
    HIGH = 0
    MEDIUM = 1
    LOW = 2


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What a handler may want to know besides the event."""

    task_id: str
    task_type: str
    attempt: int  # 0 for the first run, n for the n-th retry
    worker: str


# Does the work for one event; returns a reference to its result (or None).
Handler = Callable[[Envelope[Any], TaskContext], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class TaskType:
    """A kind of background work and the rules it runs under."""

    name: str
    handler: Handler
    # Attempts in all (1 = no retry); after the last, the event is dead-lettered.
    max_attempts: int = 4
    # Wait before attempt 1, 2, ... (the last value repeats), ±20 % jitter,
    # served by the retry tier with the longest delay not above it.
    retry_delays_s: tuple[float, ...] = (1.0, 10.0, 60.0)
    timeout_s: float = 30.0
    # Tasks of this type in flight at once on one worker (I/O-bound types want
    # many); with ``ordered``, one key's tasks still run one after another.
    concurrency: int = 16
    # Run one key's (session's) tasks one after another, in partition order.
    ordered: bool = True
    # Of ``concurrency``, how many slots replayed events may hold, so a replay
    # never leaves live events waiting for more than the rest.
    replay_share: float = 0.25
    # An event's tasks start in priority order (high first).
    priority: Priority = Priority.MEDIUM
    # A content hash of what the result depends on; tasks with equal keys reuse
    # the first one's result (``None``: not cacheable).
    cache_key: Callable[[Envelope[Any]], str | None] | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.timeout_s <= 0 or not self.retry_delays_s or self.concurrency < 1:
            raise ValueError(
                f"task type {self.name!r}: attempts, timeout, delays and concurrency must be positive"
            )
        if not 0 < self.replay_share <= 1:
            raise ValueError(f"task type {self.name!r}: replay_share must be in (0, 1]")

    @property
    def replay_slots(self) -> int:
        return max(1, int(self.concurrency * self.replay_share))

    def retry_delay_s(self, attempt: int) -> float:
        """Nominal wait before ``attempt`` (1 = the first retry)."""
        return self.retry_delays_s[min(attempt, len(self.retry_delays_s)) - 1]


def misrouted(task_type: str, envelope: Envelope[Any]) -> PermanentTaskError:
    """The error for an event routed to a handler that cannot take it.

    A routing mistake: no retry can fix it, so the event is dead-lettered at
    once (``schemas.tasks.TASK_ROUTES`` names what each task type receives).
    """
    return PermanentTaskError(f"{task_type} cannot handle {envelope.type} events")
