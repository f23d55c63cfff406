"""The read model fed raw records: status events folded, finishes timed, dead letters kept, junk counted."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from producers.webview.dead_letters import MAX_REASONS, OTHER_REASON, DeadLetterLog
from producers.webview.index import TaskIndex
from producers.webview.read_model import ReadModel
from schemas import DeadLetter, TaskStatusChanged, encode, new_envelope
from schemas.tasks import TaskStatus

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def status(tid: str, s: TaskStatus, seconds: float) -> bytes:
    change = TaskStatusChanged(
        task_id=tid,
        task_type="transcript",
        status=s,
        at=T0 + timedelta(seconds=seconds),
        event_id="e-1",
        event_type="chat.turn",
        session_id="s-1",
    )
    return encode(new_envelope(change))


def letter(reason: str, original: bytes = b"\xffnot utf-8") -> bytes:
    payload = DeadLetter(
        reason=reason,
        error="bad",
        origin_topic="feynman.conversations",
        origin_partition=1,
        origin_offset=2,
        original_b64=base64.b64encode(original).decode(),
        original_key="s-1",
    )
    return encode(new_envelope(payload))


def model(tasks: int = 100, letters: int = 10) -> ReadModel:
    return ReadModel(TaskIndex(tasks), DeadLetterLog(letters))


def test_a_finish_is_timed_from_creation_once_even_if_its_status_arrives_twice() -> None:
    m = model()
    for s, at in ((TaskStatus.QUEUED, 0), (TaskStatus.RUNNING, 1), (TaskStatus.COMPLETED, 2.5)):
        m.apply_status(status("a", s, at))
    m.apply_status(status("a", TaskStatus.COMPLETED, 2.5))
    latency = m.finishes.latency(T0 + timedelta(seconds=10), timedelta(minutes=1))
    assert latency["transcript"].count == 1
    assert latency["transcript"].percentiles[50] == 2.5
    assert m.tasks.get("a")["status"] == "completed"  # type: ignore[index]


def test_records_that_are_not_status_events_are_counted_and_skipped() -> None:
    m = model()
    m.apply_status(b"not json")
    m.apply_status(letter("x"))  # a valid envelope of another type
    m.apply_status(None)  # a tombstone
    assert m.progress.undecodable == 2 and len(m.tasks) == 0


def test_dead_letters_are_kept_newest_first_with_their_original_bytes_and_counted_by_reason() -> None:
    m = model(letters=2)
    for n, reason in enumerate(("not_json", "handler_failed", "not_json")):
        m.apply_dead_letter(letter(reason), partition=0, offset=n)
    m.apply_dead_letter(b"junk", partition=0, offset=9)
    kept = m.dead_letters.newest(10)
    assert [(x.offset, x.letter.reason) for x in kept] == [(2, "not_json"), (1, "handler_failed")]
    assert m.dead_letters.reasons == {"not_json": 2, "handler_failed": 1}
    assert kept[0].original() == b"\xffnot utf-8" and kept[0].preview() == "\ufffdnot utf-8"
    assert [x.offset for x in m.dead_letters.newest(10, reason="handler_failed")] == [1]
    assert m.progress.undecodable == 1


def test_reasons_are_counted_by_name_up_to_a_bound_and_every_letter_is_counted() -> None:
    m = model(letters=10)
    for n in range(MAX_REASONS + 50):
        m.apply_dead_letter(letter(f"made-up-{n}"), partition=0, offset=n)
    assert len(m.dead_letters.reasons) == MAX_REASONS
    assert m.dead_letters.reasons[OTHER_REASON] == 51
    assert m.dead_letters.total == MAX_REASONS + 50
    # The letters kept still carry their own reason.
    assert m.dead_letters.newest(1)[0].letter.reason == f"made-up-{MAX_REASONS + 49}"
