"""Timers that outlive their own exceptions: ``@guarded_timer(app, interval, name=...)``.

In faust-streaming 0.15 ``@app.timer`` runs the function in a loop inside one
app task (``App.timer`` → ``App.task`` → ``Service.add_future``). An exception
escaping one run ends that loop, and ``Service._execute_task`` answers every
exception but ``CancelledError`` with ``App.crash``: the whole worker stops. A
send during a broker outage took the worker down with it.

A guarded timer takes the same arguments as ``app.timer``. It catches an
``Exception`` from one run, logs it with its traceback, counts it in
``feynman_worker_timer_errors_total{timer="<name>"}`` on the worker's
``/metrics/`` (every guarded timer's series exists from the start, at 0) and
runs again at the next interval. ``CancelledError`` is a ``BaseException`` and
still ends the loop: that is how the worker stops its timers.

Running again is all the recovery the worker's timers need, because each run
works out from the current state what is due, and what it sends is idempotent:

- ``table_expiry`` and ``expire_task_status`` send requests (``table.expiry``,
  ``task.expired``) that the owning agent checks against the row before it
  deletes anything: a row no longer due, or already gone, is left alone. A run
  cut short leaves its remaining rows due, so the next run asks for them again,
  and a request sent twice prunes once.
- ``consolidate_idle_sessions`` sends ``conversation.ended`` with an event id
  fixed per session and turn count, so asking again is recognised as the same event.
- ``cost_report`` marks a finished day reported only after its report (fixed
  id) was sent; the running day's report is replaced by the next one anyway.
- ``monitoring_snapshot`` and ``liveness_refresh`` publish or read a snapshot
  that the next run replaces.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import faust
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from streams.metric_families import counter_family

log = logging.getLogger(__name__)

TimerFun = Callable[[], Awaitable[None]]


class TimerErrors(Collector):
    """Runs of each guarded timer of one app that raised; ``/metrics/`` registers it."""

    def __init__(self) -> None:
        self.errors: Counter[str] = Counter()

    def declare(self, timer: str) -> None:
        self.errors[timer] += 0

    def collect(self) -> Iterator[Metric]:
        yield counter_family(
            "feynman_worker_timer_errors",
            "Runs of a worker timer that raised (logged; the timer runs again at its next interval)",
            ["timer"],
            self.errors,
        )


_ERRORS: weakref.WeakKeyDictionary[faust.App, TimerErrors] = weakref.WeakKeyDictionary()


def timer_errors(app: faust.App) -> TimerErrors:
    """The error counts of ``app``'s guarded timers (one collector per app)."""
    errors = _ERRORS.get(app)
    if errors is None:
        errors = _ERRORS[app] = TimerErrors()
    return errors


def guarded_timer(
    app: faust.App, interval: float, *, on_leader: bool = False, name: str | None = None
) -> Callable[[TimerFun], Any]:
    """``app.timer(interval, on_leader=..., name=...)`` whose runs may raise without stopping the worker."""
    errors = timer_errors(app)

    def decorate(fun: TimerFun) -> Any:
        timer = name or fun.__qualname__
        errors.declare(timer)

        @functools.wraps(fun)
        async def guarded() -> None:
            try:
                await fun()
            except Exception:
                errors.errors[timer] += 1
                log.exception("timer %s failed; it runs again in %s s", timer, interval)

        return app.timer(interval, on_leader=on_leader, name=timer)(guarded)

    return decorate
