"""The task status fold: a monotonic state machine over status events (docs/architecture.md, "Task model")."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from schemas.envelope import rfc3339
from schemas.events import TaskStatusChanged
from schemas.status import expired, fold
from schemas.tasks import TaskStatus, task_id

EVENT_ID = "0190b5c2-7f3a-7c1e-9a2b-3c4d5e6f7a8b"
TASK_ID = task_id("transcript", EVENT_ID)
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
TERMINAL = [TaskStatus.COMPLETED, TaskStatus.DEAD, TaskStatus.INVALID, TaskStatus.SKIPPED]
GET_TASK_FIELDS = {
    "task_id",
    "name",
    "status",
    "created_at",
    "started_at",
    "completed_at",
    "retry_count",
    "error",
}


def change(
    status: TaskStatus,
    *,
    attempt: int = 0,
    seconds: float = 0,
    error: str | None = None,
    replay_id: str | None = None,
    result_ref: str | None = None,
) -> TaskStatusChanged:
    return TaskStatusChanged(
        task_id=TASK_ID,
        task_type="transcript",
        status=status,
        at=T0 + timedelta(seconds=seconds),
        event_id=EVENT_ID,
        event_type="chat.turn",
        session_id="sess-1",
        attempt=attempt,
        worker="worker-1",
        error=error,
        replay_id=replay_id,
        result_ref=result_ref,
    )


QUEUED = change(TaskStatus.QUEUED, seconds=0)
RUNNING = change(TaskStatus.RUNNING, seconds=1)
COMPLETED = change(TaskStatus.COMPLETED, seconds=2)


def fold_all(changes: list[TaskStatusChanged]) -> dict[str, Any] | None:
    """What the status table holds after these changes, in this arrival order."""
    record = None
    for c in changes:
        record = fold(record, c) or record
    return record


def iso(seconds: float) -> str:
    return rfc3339(T0 + timedelta(seconds=seconds))


def test_queued_then_running_then_completed_records_each_step() -> None:
    queued = fold(None, QUEUED)
    assert queued is not None
    assert queued["status"] == "queued"
    assert queued["created_at"] == iso(0)
    assert queued["started_at"] is None
    assert queued["completed_at"] is None

    running = fold(queued, RUNNING)
    assert running is not None
    assert running["status"] == "running"
    assert running["started_at"] == iso(1)
    assert running["completed_at"] is None

    completed = fold(running, COMPLETED)
    assert completed is not None
    assert completed["status"] == "completed"
    assert completed["created_at"] == iso(0)
    assert completed["started_at"] == iso(1)
    assert completed["completed_at"] == iso(2)
    assert completed["retry_count"] == 0
    assert completed["error"] is None


def test_fold_does_not_modify_the_stored_record() -> None:
    queued = fold(None, QUEUED)
    assert queued is not None
    snapshot = dict(queued)

    fold(queued, RUNNING)

    assert queued == snapshot


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations([QUEUED, RUNNING, COMPLETED])),
    ids=lambda order: "-".join(c.status.value for c in order),
)
def test_any_arrival_order_ends_completed_with_start_and_end_times(
    order: tuple[TaskStatusChanged, ...],
) -> None:
    record = fold_all(list(order))

    assert record is not None
    assert record["status"] == "completed"
    assert record["started_at"] is not None
    assert record["completed_at"] is not None


def test_a_duplicate_event_writes_nothing() -> None:
    record = fold_all([QUEUED, RUNNING])

    assert fold(record, RUNNING) is None
    assert fold(fold(None, QUEUED), QUEUED) is None


def test_a_late_queued_after_running_writes_nothing() -> None:
    record = fold_all([QUEUED, RUNNING])

    assert fold(record, change(TaskStatus.QUEUED, seconds=5)) is None


def test_running_the_next_attempt_after_retrying_moves_forward() -> None:
    retrying = fold_all([QUEUED, RUNNING, change(TaskStatus.RETRYING, attempt=1, seconds=2, error="timeout")])
    assert retrying is not None
    assert retrying["status"] == "retrying"
    assert retrying["retry_count"] == 1
    assert retrying["error"] == "timeout"

    running_again = fold(retrying, change(TaskStatus.RUNNING, attempt=2, seconds=30))

    assert running_again is not None
    assert running_again["status"] == "running"
    assert running_again["retry_count"] == 2
    assert running_again["started_at"] == iso(1), "started_at is the first start"


def test_a_running_of_the_same_attempt_after_retrying_is_stale() -> None:
    retrying = fold_all(
        [QUEUED, change(TaskStatus.RUNNING, seconds=1), change(TaskStatus.RETRYING, attempt=1, seconds=2)]
    )

    assert fold(retrying, change(TaskStatus.RUNNING, attempt=1, seconds=3)) is None
    assert fold(retrying, change(TaskStatus.RUNNING, attempt=0, seconds=3)) is None


def test_a_late_running_fills_in_the_start_time_without_moving_the_status() -> None:
    retrying = fold_all([QUEUED, change(TaskStatus.RETRYING, attempt=1, seconds=2)])

    filled = fold(retrying, change(TaskStatus.RUNNING, attempt=1, seconds=1))

    assert filled is not None
    assert filled["status"] == "retrying" and filled["retry_count"] == 1
    assert filled["started_at"] == iso(1)


def test_a_retried_task_can_still_complete() -> None:
    record = fold_all(
        [
            QUEUED,
            RUNNING,
            change(TaskStatus.RETRYING, attempt=1, seconds=2, error="timeout"),
            change(TaskStatus.RUNNING, attempt=2, seconds=30),
            change(TaskStatus.COMPLETED, attempt=2, seconds=31),
        ]
    )

    assert record is not None
    assert record["status"] == "completed"
    assert record["retry_count"] == 2
    assert record["completed_at"] == iso(31)


@pytest.mark.parametrize("terminal", TERMINAL, ids=str)
@pytest.mark.parametrize("later", list(TaskStatus), ids=str)
@pytest.mark.parametrize("attempt", [0, 7])
def test_a_terminal_status_absorbs_every_later_event(
    terminal: TaskStatus, later: TaskStatus, attempt: int
) -> None:
    record = fold_all([QUEUED, RUNNING, change(terminal, seconds=2, error="boom")])
    assert record is not None
    assert record["status"] == terminal.value

    assert fold(record, change(later, attempt=attempt, seconds=60)) is None


@pytest.mark.parametrize("terminal", TERMINAL, ids=str)
def test_a_terminal_status_wins_over_a_higher_attempt_that_arrives_late(terminal: TaskStatus) -> None:
    record = fold_all(
        [change(TaskStatus.RUNNING, attempt=3, seconds=1), change(terminal, attempt=0, seconds=2)]
    )

    assert record is not None
    assert record["status"] == terminal.value
    assert record["completed_at"] == iso(2)


def test_a_dead_task_keeps_the_error_that_killed_it() -> None:
    record = fold_all(
        [QUEUED, RUNNING, change(TaskStatus.DEAD, attempt=3, seconds=9, error="ValueError('x')")]
    )

    assert record is not None
    assert record["status"] == "dead"
    assert record["error"] == "ValueError('x')"


def test_the_record_has_the_fields_of_get_task() -> None:
    record = fold_all([QUEUED, RUNNING, COMPLETED])

    assert record is not None
    assert set(record) >= GET_TASK_FIELDS
    assert record["task_id"] == TASK_ID
    assert record["name"] == "transcript"
    assert isinstance(record["retry_count"], int)


def test_the_record_is_plain_json_with_utc_timestamps() -> None:
    record = fold_all([QUEUED, RUNNING, COMPLETED])

    assert orjson.loads(orjson.dumps(record)) == record
    for field in ("created_at", "started_at", "completed_at"):
        assert record[field].endswith("Z")
        assert datetime.fromisoformat(record[field]).utcoffset() == timedelta(0)


# --- generations (feynman replay) ----------------------------------------------

# UUIDv7 strings: the second replay started after the first, so it sorts after it.
REPLAY_1 = "0190b5c3-0000-7000-8000-000000000001"
REPLAY_2 = "0190b5c4-0000-7000-8000-000000000002"


def test_a_replay_restarts_a_completed_task_as_a_new_generation() -> None:
    done = fold_all([QUEUED, RUNNING, change(TaskStatus.COMPLETED, seconds=2, result_ref="old")])

    rerun = fold(done, change(TaskStatus.RUNNING, seconds=60, replay_id=REPLAY_1))

    assert rerun is not None
    assert rerun["status"] == "running"
    assert rerun["replay_id"] == REPLAY_1
    assert rerun["created_at"] == iso(0)
    assert rerun["started_at"] == iso(60)
    assert rerun["completed_at"] is None
    assert rerun["result_ref"] is None


def test_a_dead_task_replayed_after_the_fix_completes_without_its_old_error() -> None:
    dead = fold_all([RUNNING, change(TaskStatus.DEAD, seconds=2, error="boom")])

    record = dead
    for c in [
        change(TaskStatus.RUNNING, seconds=60, replay_id=REPLAY_1),
        change(TaskStatus.COMPLETED, seconds=61, replay_id=REPLAY_1, result_ref="new"),
    ]:
        record = fold(record, c) or record

    assert record is not None
    assert (record["status"], record["error"], record["result_ref"]) == ("completed", None, "new")
    assert record["completed_at"] == iso(61)


@pytest.mark.parametrize(
    "late",
    [
        change(TaskStatus.RUNNING, seconds=1),
        change(TaskStatus.COMPLETED, seconds=2),
        change(TaskStatus.DEAD, seconds=3, error="late"),
        change(TaskStatus.SKIPPED, seconds=4),
    ],
    ids=lambda c: c.status.value,
)
def test_a_late_status_of_an_older_generation_never_overwrites_the_newer_one(
    late: TaskStatusChanged,
) -> None:
    newer = fold_all(
        [
            COMPLETED,
            change(TaskStatus.RUNNING, seconds=60, replay_id=REPLAY_1),
            change(TaskStatus.COMPLETED, seconds=61, replay_id=REPLAY_1),
        ]
    )

    assert fold(newer, late) is None


def test_a_later_replay_supersedes_an_earlier_one_and_not_the_other_way_round() -> None:
    first = change(TaskStatus.COMPLETED, seconds=61, replay_id=REPLAY_1)
    second = change(TaskStatus.COMPLETED, seconds=62, replay_id=REPLAY_2)

    for order in ([COMPLETED, first, second], [COMPLETED, second, first], [second, first, COMPLETED]):
        record = fold_all(order)
        assert record is not None
        assert (record["replay_id"], record["completed_at"]) == (REPLAY_2, iso(62))


@pytest.mark.parametrize(
    "order",
    list(
        itertools.permutations(
            [
                RUNNING,
                COMPLETED,
                change(TaskStatus.RUNNING, seconds=60, replay_id=REPLAY_1),
                change(TaskStatus.COMPLETED, seconds=61, replay_id=REPLAY_1),
            ]
        )
    ),
)
def test_any_arrival_order_of_two_generations_ends_in_the_newer_ones_completion(
    order: tuple[TaskStatusChanged, ...],
) -> None:
    record = fold_all(list(order))

    assert record is not None
    assert record["status"] == "completed"
    assert record["replay_id"] == REPLAY_1
    assert (record["started_at"], record["completed_at"]) == (iso(60), iso(61))


def test_a_duplicate_delivery_skipped_within_the_same_replay_changes_nothing() -> None:
    replayed = fold_all(
        [
            COMPLETED,
            change(TaskStatus.RUNNING, seconds=60, replay_id=REPLAY_1),
            change(TaskStatus.COMPLETED, seconds=61, replay_id=REPLAY_1),
        ]
    )

    assert fold(replayed, change(TaskStatus.SKIPPED, seconds=70, replay_id=REPLAY_1)) is None


def test_a_v1_status_record_without_replay_id_reads_as_the_first_generation() -> None:
    old = {k: v for k, v in (fold(None, COMPLETED) or {}).items() if k != "replay_id"}

    rerun = fold(old, change(TaskStatus.RUNNING, seconds=60, replay_id=REPLAY_1))

    assert rerun is not None and rerun["status"] == "running"
    assert fold(old, change(TaskStatus.DEAD, seconds=60)) is None


def test_only_a_record_finished_before_the_cutoff_expires() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    running = fold(
        None,
        TaskStatusChanged(
            task_id="t", task_type="x", status=TaskStatus.RUNNING, at=at, event_id="e", event_type="chat.turn"
        ),
    )
    done = fold(
        running,
        TaskStatusChanged(
            task_id="t",
            task_type="x",
            status=TaskStatus.COMPLETED,
            at=at,
            event_id="e",
            event_type="chat.turn",
        ),
    )
    assert not expired(running, at + timedelta(days=9))  # unfinished work never expires
    assert not expired(done, at)
    assert expired(done, at + timedelta(seconds=1))
    assert not expired(None, at)
