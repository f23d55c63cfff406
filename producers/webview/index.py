"""The task index: every task's folded status, newest first, bounded in size.

Folding uses :func:`schemas.status.fold`, the rule the worker's table uses, so
the view and ``GET /task/{id}`` never disagree on a task's state. The index
keeps the ``capacity`` tasks created last and forgets older ones, so memory is
bounded whatever the topic's retention (about 1 KB per task, see
docs/webview.md). Times are the fold's fixed-width RFC 3339 strings, which sort
like the instants they name, so filters compare strings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sortedcontainers import SortedList

from schemas.events import TaskStatusChanged
from schemas.status import expired, fold

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Transition:
    """What one status event changed: the record before (None if new) and after."""

    before: Record | None
    after: Record


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Which tasks a page lists; ``None`` means any. Times are RFC 3339 strings (UTC, ``Z``)."""

    statuses: frozenset[str] | None = None
    task_type: str | None = None
    session_id: str | None = None
    created_since: str | None = None
    created_until: str | None = None

    def matches(self, record: Record) -> bool:
        if self.statuses is not None and record["status"] not in self.statuses:
            return False
        if self.task_type is not None and record["name"] != self.task_type:
            return False
        if self.session_id is not None and record["session_id"] != self.session_id:
            return False
        created = record["created_at"]
        if self.created_since is not None and created < self.created_since:
            return False
        return self.created_until is None or created < self.created_until


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    items: list[Record]


class TaskIndex:
    """Task id → folded record, ordered by creation time, with counts per status and type."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be positive, not {capacity}")
        self.capacity = capacity
        self._records: dict[str, Record] = {}
        # (created_at, task_id): the order pages list tasks in, oldest first.
        self._order: SortedList = SortedList()
        # The same, per session: a learner's tasks are the most common lookup, so it avoids a scan.
        self._by_session: dict[str, SortedList] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._records)

    def apply(self, change: TaskStatusChanged) -> Transition | None:
        """Fold one status event in; the transition, or None when it changed nothing."""
        before = self._records.get(change.task_id)
        after = fold(before, change)
        if after is None:
            return None
        if before is not None:
            self._unlink(before)
        self._records[change.task_id] = after
        self._link(after)
        self._evict()
        return Transition(before, after)

    def _link(self, record: Record) -> None:
        entry = (record["created_at"], record["task_id"])
        self._order.add(entry)
        if record["session_id"] is not None:
            self._by_session.setdefault(record["session_id"], SortedList()).add(entry)
        self._counts[(record["name"], record["status"])] += 1

    def _unlink(self, record: Record) -> None:
        entry = (record["created_at"], record["task_id"])
        self._order.remove(entry)
        session = record["session_id"]
        if session is not None:
            entries = self._by_session[session]
            entries.remove(entry)
            if not entries:
                del self._by_session[session]
        self._counts[(record["name"], record["status"])] -= 1

    def _evict(self) -> None:
        while len(self._records) > self.capacity:
            _, task_id = self._order[0]
            self._unlink(self._records.pop(task_id))
            self.evicted += 1

    def get(self, task_id: str) -> Record | None:
        return self._records.get(task_id)

    def forget(self, task_id: str) -> None:
        """Drop a task the workers deleted (a tombstone on the status topic)."""
        record = self._records.pop(task_id, None)
        if record is not None:
            self._unlink(record)

    def session(self, session_id: str) -> list[Record]:
        """The session's tasks still held, oldest first."""
        return [self._records[task_id] for _, task_id in self._by_session.get(session_id, ())]

    def expire(self, task_id: str, finished_before: datetime) -> None:
        """Forget a task whose status outlived its retention, as the worker's table does."""
        record = self._records.get(task_id)
        if expired(record, finished_before):
            self._unlink(self._records.pop(task_id))

    def page(self, where: TaskFilter, *, offset: int = 0, limit: int = 50) -> Page:
        """Matching tasks, newest first: ``limit`` of them after skipping ``offset``, and how many match.

        Without a status or type filter this costs the page's size (plus a
        session's tasks when filtering by session); a status or type filter
        scans the tasks in the time range (about 0.1 s per 200k tasks).
        """
        entries = self._order if where.session_id is None else self._by_session.get(where.session_id)
        if entries is None:
            return Page(total=0, items=[])
        lo = entries.bisect_left((where.created_since,)) if where.created_since is not None else 0
        hi = entries.bisect_left((where.created_until,)) if where.created_until is not None else len(entries)
        hi = max(lo, hi)
        if where.statuses is None and where.task_type is None:
            start, stop = max(lo, hi - offset - limit), max(lo, hi - offset)
            newest = entries.islice(start, stop, reverse=True)
            return Page(total=hi - lo, items=[self._records[task_id] for _, task_id in newest])
        items: list[Record] = []
        total = 0
        for _, task_id in entries.islice(lo, hi, reverse=True):
            record = self._records[task_id]
            if not where.matches(record):
                continue
            if offset <= total < offset + limit:
                items.append(record)
            total += 1
        return Page(total=total, items=items)

    def counts(self) -> dict[tuple[str, str], int]:
        """Tasks kept, per (task type, status); zero counts left out."""
        return {key: n for key, n in self._counts.items() if n > 0}

    def by_status(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (_, status), n in self.counts().items():
            out[status] += n
        return dict(out)

    def by_type(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (task_type, _), n in self.counts().items():
            out[task_type] += n
        return dict(out)
