"""What a replay selects: a source topic, a time or offset range, filters.

Pure parsing and matching, no Kafka: the command line's words become a
:class:`Selection` that the checkpoint stores, so a resumed replay selects
exactly what the first run did.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from foundation.errors import ReplayUsageError
from schemas.envelope import Envelope
from schemas.events import DeadLetter
from schemas.topics import Topics, TopicSpec

# Logical names (fields of schemas.topics.Topics) a replay may read from.
SOURCES = ("conversations", "llm_usage", "task_status", "dead_letter")
_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)(s|m|h|d|w)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RANGE = re.compile(r"^(\d+):(\d+)-(\d*)$")


def parse_time(text: str, now: datetime, *, option: str) -> datetime:
    """An RFC 3339 time (zone required), ``now``, or a past offset like ``-2h`` / ``-30m`` / ``-7d``."""
    text = text.strip()
    if text == "now":
        return now
    rel = _RELATIVE.match(text)
    if rel:
        return now - timedelta(seconds=float(rel.group(1)) * _UNITS[rel.group(2)])
    try:
        at = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ReplayUsageError(
            f"{option} {text!r} is neither RFC 3339 (2024-05-01T12:00:00Z) nor relative (-2h, -30m, -7d)"
        ) from None
    if at.tzinfo is None:
        raise ReplayUsageError(f"{option} {text!r} has no time zone (add Z for UTC)")
    return at.astimezone(UTC)


def parse_offsets(text: str) -> dict[int, tuple[int, int | None]]:
    """``0:10-20,1:5-`` → ``{0: (10, 21), 1: (5, None)}``: inclusive ranges, open end = to the end."""
    ranges: dict[int, tuple[int, int | None]] = {}
    for part in (p.strip() for p in text.split(",")):
        found = _RANGE.match(part)
        if not found:
            raise ReplayUsageError(f"--offsets part {part!r} is not PARTITION:FIRST-LAST or PARTITION:FIRST-")
        partition, first = int(found.group(1)), int(found.group(2))
        last = int(found.group(3)) if found.group(3) else None
        if last is not None and last < first:
            raise ReplayUsageError(f"--offsets {part!r}: the range is empty (last offset before first)")
        if partition in ranges:
            raise ReplayUsageError(f"--offsets names partition {partition} twice")
        ranges[partition] = (first, last + 1 if last is not None else None)
    return ranges


@dataclass(frozen=True, slots=True)
class Filters:
    """Which records of the range are replayed; every given filter must match."""

    types: tuple[str, ...] = ()
    session: str | None = None
    user: str | None = None
    task_types: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    def event(self, envelope: Envelope[Any]) -> bool:
        if self.types and envelope.type not in self.types:
            return False
        if self.session is not None and getattr(envelope.data, "session_id", None) != self.session:
            return False
        return self.user is None or getattr(envelope.data, "user_id", None) == self.user

    def letter(self, letter: DeadLetter, envelope: Envelope[Any] | None) -> bool:
        """A dead letter; event filters apply to its original event (unreadable: to its key)."""
        if self.task_types and letter.task_type not in self.task_types:
            return False
        if self.reasons and letter.reason not in self.reasons:
            return False
        if envelope is not None:
            return self.event(envelope)
        if self.types or self.user is not None:
            return False
        return self.session is None or letter.original_key == self.session


@dataclass(frozen=True, slots=True)
class Selection:
    """Everything that decides which records a replay sends, and where."""

    source: str  # a name from SOURCES
    start: datetime | None = None
    end: datetime | None = None
    offsets: dict[int, tuple[int, int | None]] | None = None
    filters: Filters = Filters()
    lane: str = "replay"
    tasks: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ReplayUsageError(f"cannot replay topic {self.source!r}; choose one of {', '.join(SOURCES)}")
        if self.offsets is not None and (self.start is not None or self.end is not None):
            raise ReplayUsageError("give either --offsets or --from/--to, not both")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ReplayUsageError("the time range is empty: --from is not before --to")
        if self.lane not in ("replay", "live"):
            raise ReplayUsageError(f"--lane must be replay or live, not {self.lane!r}")

    def check_not_future(self, now: datetime) -> None:
        if self.start is not None and self.start > now:
            raise ReplayUsageError(f"--from {self.start.isoformat()} is in the future")

    def spec(self, topics: Topics) -> TopicSpec:
        return getattr(topics, self.source)  # type: ignore[no-any-return]

    @property
    def dead_letters(self) -> bool:
        return self.source == "dead_letter"

    def in_time(self, timestamp_ms: int) -> bool:
        """Whether a record's timestamp lies in ``[start, end)`` (always, without a time range)."""
        at = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "offsets": {str(p): list(r) for p, r in self.offsets.items()} if self.offsets else None,
            "filters": asdict(self.filters),
            "lane": self.lane,
            "tasks": list(self.tasks) if self.tasks is not None else None,
        }

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Selection:
        offsets = obj.get("offsets")
        filters = {k: tuple(v) if isinstance(v, list) else v for k, v in obj["filters"].items()}
        return cls(
            source=obj["source"],
            start=datetime.fromisoformat(obj["start"]) if obj.get("start") else None,
            end=datetime.fromisoformat(obj["end"]) if obj.get("end") else None,
            offsets={int(p): (r[0], r[1]) for p, r in offsets.items()} if offsets else None,
            filters=Filters(**filters),
            lane=obj["lane"],
            tasks=tuple(obj["tasks"]) if obj.get("tasks") is not None else None,
        )
