"""The task index: the status fold per task, newest first, filters, paging, counts, a size bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from producers.webview.index import TaskFilter, TaskIndex
from schemas.events import TaskStatusChanged
from schemas.tasks import TaskStatus

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def change(
    tid: str, status: TaskStatus, minute: int = 0, *, task_type: str = "transcript", session: str = "s-1"
) -> TaskStatusChanged:
    return TaskStatusChanged(
        task_id=tid,
        task_type=task_type,
        status=status,
        at=T0 + timedelta(minutes=minute),
        event_id=f"e-{tid}",
        event_type="chat.turn",
        session_id=session,
    )


def ids(index: TaskIndex, where: TaskFilter | None = None, **kw: int) -> list[str]:
    return [r["task_id"] for r in index.page(where or TaskFilter(), **kw).items]


def test_tasks_are_listed_newest_first_by_creation_whatever_the_order_they_arrive_in() -> None:
    index = TaskIndex(100)
    for tid, minute in (("b", 2), ("a", 1), ("c", 3)):
        index.apply(change(tid, TaskStatus.QUEUED, minute))
    index.apply(change("a", TaskStatus.COMPLETED, 9))  # finishing does not make it newer
    assert ids(index) == ["c", "b", "a"]


def test_a_late_status_event_never_moves_a_task_backwards_and_counts_follow_the_fold() -> None:
    index = TaskIndex(100)
    index.apply(change("a", TaskStatus.QUEUED))
    index.apply(change("a", TaskStatus.COMPLETED, 2))
    assert index.apply(change("a", TaskStatus.RUNNING, 1)) is not None  # fills started_at only
    assert index.get("a")["status"] == "completed"  # type: ignore[index]
    assert index.apply(change("a", TaskStatus.COMPLETED, 2)) is None  # a duplicate changes nothing
    assert index.by_status() == {"completed": 1}
    assert index.counts() == {("transcript", "completed"): 1}


def test_filters_by_status_type_session_and_creation_time_combine() -> None:
    index = TaskIndex(100)
    index.apply(change("a", TaskStatus.QUEUED, 0, session="s-1"))
    index.apply(change("b", TaskStatus.QUEUED, 5, session="s-2", task_type="analysis"))
    index.apply(change("c", TaskStatus.QUEUED, 10, session="s-1"))
    index.apply(change("c", TaskStatus.DEAD, 11, session="s-1"))
    assert ids(index, TaskFilter(session_id="s-1")) == ["c", "a"]
    assert ids(index, TaskFilter(task_type="analysis")) == ["b"]
    assert ids(index, TaskFilter(statuses=frozenset({"dead", "queued"}), session_id="s-1")) == ["c", "a"]
    assert ids(index, TaskFilter(statuses=frozenset({"queued"}))) == ["b", "a"]
    since = "2026-11-28T12:05:00.000000Z"
    assert ids(index, TaskFilter(created_since=since)) == ["c", "b"]
    assert ids(index, TaskFilter(created_until=since)) == ["a"]


def test_pages_skip_and_take_and_the_total_counts_every_match() -> None:
    index = TaskIndex(100)
    for n in range(7):
        index.apply(change(f"t{n}", TaskStatus.QUEUED, n))
    first = index.page(TaskFilter(), offset=0, limit=3)
    assert first.total == 7 and [r["task_id"] for r in first.items] == ["t6", "t5", "t4"]
    assert ids(index, offset=6, limit=3) == ["t0"]
    assert ids(index, offset=9, limit=3) == []


def test_beyond_its_capacity_the_index_forgets_the_oldest_tasks_and_their_counts() -> None:
    index = TaskIndex(3)
    for n in range(5):
        index.apply(change(f"t{n}", TaskStatus.QUEUED, n))
    assert len(index) == 3 and index.evicted == 2
    assert ids(index) == ["t4", "t3", "t2"]
    assert index.get("t0") is None
    assert index.by_status() == {"queued": 3}


def test_an_index_without_room_is_refused() -> None:
    with pytest.raises(ValueError):
        TaskIndex(0)


def test_a_task_whose_creation_moves_earlier_is_found_at_its_new_place_in_its_session() -> None:
    index = TaskIndex(100)
    index.apply(change("a", TaskStatus.QUEUED, 5, session="s-1"))
    index.apply(change("b", TaskStatus.COMPLETED, 9, session="s-1"))
    index.apply(change("b", TaskStatus.QUEUED, 1, session="s-1"))  # the earlier event arrives late
    assert ids(index, TaskFilter(session_id="s-1")) == ["a", "b"]
    assert ids(index, TaskFilter(session_id="s-1", created_until="2026-11-28T12:02:00.000000Z")) == ["b"]


def test_evicted_tasks_leave_their_session_and_type_filters_too() -> None:
    index = TaskIndex(2)
    index.apply(change("a", TaskStatus.QUEUED, 0, session="s-old", task_type="analysis"))
    index.apply(change("b", TaskStatus.QUEUED, 1, session="s-new"))
    index.apply(change("c", TaskStatus.QUEUED, 2, session="s-new"))
    assert index.page(TaskFilter(session_id="s-old")).total == 0
    assert index.page(TaskFilter(task_type="analysis")).total == 0
    assert ids(index, TaskFilter(session_id="s-new"), offset=1, limit=5) == ["b"]
