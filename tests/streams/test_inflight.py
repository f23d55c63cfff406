"""In-order acks, per-key order and the two-lane limiter, without Kafka."""

from __future__ import annotations

import asyncio

import pytest

from streams.inflight import Admission, KeyOrder, OffsetGate, PriorityLimiter


def test_acks_leave_in_offset_order_whatever_order_tasks_finish_in() -> None:
    acked: list[str] = []
    gate = OffsetGate(ack=acked.append, next_offset=10)
    slots = {}
    for offset in (10, 11, 12):
        assert gate.admit(offset) is Admission.PROCESS
        slots[offset] = gate.track(offset, f"e{offset}")
    assert gate.finish(slots[12]) == 0
    assert gate.finish(slots[11]) == 0
    assert acked == []  # 10 is still running: nothing may be committed past it
    assert gate.finish(slots[10]) == 3
    assert acked == ["e10", "e11", "e12"]


def test_a_skipped_record_makes_the_gate_rewind_and_ignore_records_until_it_comes() -> None:
    gate = OffsetGate(ack=lambda _: None, next_offset=5)
    assert gate.admit(5) is Admission.PROCESS
    assert gate.admit(8) is Admission.REWIND  # 6 and 7 never arrived
    assert gate.rewound_to == 6
    assert gate.admit(9) is Admission.DROP  # still buffered from before the rewind
    assert gate.admit(6) is Admission.PROCESS
    assert gate.admit(7) is Admission.PROCESS
    assert gate.admit(6) is Admission.DROP  # a duplicate delivery


def test_records_deleted_by_retention_are_skipped_over() -> None:
    gate = OffsetGate(ack=lambda _: None, next_offset=5)
    assert gate.admit(20) is Admission.REWIND
    gate.skip_to(20)
    assert gate.admit(20) is Admission.PROCESS


def test_an_abandoned_gate_acks_nothing_more() -> None:
    acked: list[str] = []
    gate = OffsetGate(ack=acked.append, next_offset=0)
    gate.admit(0)
    slot = gate.track(0, "e0")
    gate.abandon()
    gate.finish(slot)
    assert acked == [] and len(gate) == 0


async def test_tasks_of_one_key_run_one_after_another_in_arrival_order() -> None:
    order = KeyOrder()
    log: list[str] = []

    async def task(key: str, name: str, delay: float) -> None:
        previous, mine = order.enter(key)
        try:
            if previous is not None:
                await previous
            log.append(f"start {name}")
            await asyncio.sleep(delay)
            log.append(f"end {name}")
        finally:
            order.leave(key, mine)

    await asyncio.gather(task("a", "a1", 0.03), task("b", "b1", 0.01), task("a", "a2", 0.0))
    assert log.index("end a1") < log.index("start a2")
    assert log.index("start b1") < log.index("end a1")  # other keys do not wait
    assert len(order) == 0


async def test_a_task_cancelled_in_its_turn_does_not_let_the_next_one_overtake_the_running_one() -> None:
    order = KeyOrder()
    running_prev, running = order.enter("a")
    assert running_prev is None
    queued_prev, queued = order.enter("a")
    order.leave("a", queued, queued_prev)  # cancelled while waiting for ``running``
    next_prev, nxt = order.enter("a")
    assert next_prev is not None
    await asyncio.sleep(0)
    assert not next_prev.done()  # the running task has not finished: the next one still waits
    order.leave("a", running)
    await asyncio.wait_for(next_prev, 1)
    order.leave("a", nxt, next_prev)
    assert len(order) == 0


async def test_live_waiters_go_first_and_replayed_tasks_keep_to_their_share() -> None:
    limiter = PriorityLimiter(slots=3, low_slots=1)
    await limiter.acquire(high=False)
    # A second replayed task must wait: the replay share is one slot.
    low = asyncio.ensure_future(limiter.acquire(high=False))
    await asyncio.sleep(0)
    assert not low.done()
    await limiter.acquire(high=True)
    await limiter.acquire(high=True)
    live = asyncio.ensure_future(limiter.acquire(high=True))
    await asyncio.sleep(0)
    assert not live.done()
    limiter.release(high=False)  # the replayed slot frees: the live waiter gets it first
    await asyncio.sleep(0)
    assert live.done() and not low.done()
    limiter.release(high=True)
    await asyncio.sleep(0)
    assert low.done()
    assert (limiter.in_use, limiter.low_in_use) == (3, 1)


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    limiter = PriorityLimiter(slots=1, low_slots=1)
    await limiter.acquire(high=True)
    first = asyncio.ensure_future(limiter.acquire(high=True))
    second = asyncio.ensure_future(limiter.acquire(high=True))
    await asyncio.sleep(0)
    first.cancel()
    limiter.release(high=True)
    await asyncio.sleep(0)
    assert second.done() and limiter.in_use == 1


def test_limits_must_make_sense() -> None:
    with pytest.raises(ValueError):
        PriorityLimiter(slots=2, low_slots=3)
