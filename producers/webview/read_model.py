"""The API's read model: what the input, task-status and dead-letter topics say, in memory.

Fed raw records by :mod:`producers.webview.consumer`; decodes them with the
pipeline's own envelope codec and keeps the task index, the recent finishes
(for latency and throughput) and the recent dead letters. A record that does
not decode is counted and skipped: the view must keep up whatever a
misbehaving producer writes, and the worker already dead-letters such records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from foundation.errors import DecodeError
from foundation.settings import Settings
from producers.webview.dead_letters import DeadLetterLog, Letter
from producers.webview.index import TaskIndex, Transition
from producers.webview.stats import Finish, FinishLog
from schemas.envelope import decode
from schemas.events import DeadLetter, TaskExpired, TaskStatusChanged
from schemas.status import queued
from schemas.tasks import TaskStatus


@dataclass
class Progress:
    """How far the read model has read, for the page's "catching up" notice."""

    records: int = 0
    undecodable: int = 0
    # Records on the topics not read yet (None until the consumer measured it).
    behind: int | None = None
    connected: bool = False
    error: str | None = None


@dataclass
class ReadModel:
    tasks: TaskIndex
    dead_letters: DeadLetterLog
    finishes: FinishLog = field(default_factory=FinishLog)
    progress: Progress = field(default_factory=Progress)
    status_retention: timedelta = timedelta(days=7)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadModel:
        return cls(
            TaskIndex(settings.ui_max_tasks),
            DeadLetterLog(settings.ui_max_dead_letters),
            status_retention=timedelta(seconds=settings.status_retention_s),
        )

    def apply_event(self, value: bytes | None, *, now: datetime) -> None:
        """One record of an input topic: the tasks it triggers are queued (no one writes that).

        Events older than the status retention are left out: their tasks' rows may
        have expired from the status topic already, and would read ``queued`` forever.
        """
        if value is None:
            return
        try:
            envelope = decode(value)
        except DecodeError:
            self.progress.undecodable += 1  # the worker dead-letters it; it triggers no task
            return
        if envelope.ts < now - self.status_retention:
            return
        for change in queued(envelope):
            self.tasks.apply(change)

    def apply_status(self, value: bytes | None, *, key: bytes | None = None) -> None:
        """One record of the task-status topic (the workers' status table's changelog)."""
        if value is None:
            if key is not None:  # a tombstone: the workers deleted the task's row
                self.tasks.forget(key.decode("utf-8", "replace"))
            return
        change = self._decode(value, (TaskStatusChanged, TaskExpired))
        if isinstance(change, TaskExpired):
            self.tasks.expire(change.task_id, change.finished_before)
            return
        if change is None:
            return
        transition = self.tasks.apply(change)
        if transition is not None and _finished(transition):
            after = transition.after
            latency = _seconds_between(after["created_at"], after["completed_at"])
            self.finishes.add(Finish(after["name"], after["status"], change.at, latency))

    def apply_dead_letter(self, value: bytes | None, *, partition: int, offset: int) -> None:
        """One record of the dead-letter topic."""
        if value is None:
            return
        try:
            envelope = decode(value)
        except DecodeError:
            self.progress.undecodable += 1
            return
        if not isinstance(envelope.data, DeadLetter):
            self.progress.undecodable += 1
            return
        self.dead_letters.add(Letter(envelope.id, envelope.ts, partition, offset, envelope.data))

    def _decode(
        self, value: bytes | None, kinds: tuple[type[TaskStatusChanged], type[TaskExpired]]
    ) -> TaskStatusChanged | TaskExpired | None:
        if value is None:  # a tombstone: nothing to fold
            return None
        try:
            data = decode(value).data
        except DecodeError:
            self.progress.undecodable += 1
            return None
        if not isinstance(data, kinds):
            self.progress.undecodable += 1
            return None
        return data


def _finished(transition: Transition) -> bool:
    """The first time the task reaches a terminal status (a duplicate does not count twice)."""
    before = transition.before
    was_terminal = before is not None and TaskStatus(before["status"]).terminal
    return not was_terminal and TaskStatus(transition.after["status"]).terminal


def _seconds_between(start: str, end: str) -> float:
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
