"""How long a session's working state is kept: until it has been quiet for the retention.

Per-session rows (transcript, task index, consolidation window, quality
reports) serve a live conversation and the pages about it; a learner's
lasting state is per learner (memory, progress) and is not touched here. A
row's last activity is the newest event time it records, so the state of a
session lives as long after its last event as that event does on the
conversations topic when both retentions are equal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any


def last_activity(row: dict[str, Any]) -> datetime | None:
    """The newest event time a session row records, None when it records none."""
    times = [row.get("updated_at"), row.get("ended_at"), *(t.get("at") for t in row.get("tasks", ()))]
    parsed = [datetime.fromisoformat(t) for t in times if isinstance(t, str) and t]
    return max(parsed, default=None)


def quiet_sessions(retention: timedelta) -> Callable[[dict[str, Any], datetime], dict[str, Any] | None]:
    """The expiry rule of session rows: deleted once quiet for ``retention``, else kept as they are."""

    def prune(row: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        last = last_activity(row)
        return None if last is not None and last + retention <= now else row

    return prune
