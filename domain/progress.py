"""A learner's progress, folded turn by turn from quality reports.

Kept in a table keyed by learner, so it must be a pure fold: the same reports in the
same order give the same state on any worker, and a turn delivered twice (at-least-once
delivery) is recognised by its event id and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from domain.analysis import QualityReport

Trend = Literal["new", "improving", "steady", "declining"]
# The trend is the least-squares slope of the last RECENT clarity scores: five turns
# are enough to see a direction and few enough to follow a change of habit.
RECENT = 5
# A slope of more than 2 clarity points a turn, either way, is a trend; less is noise.
TREND_SLOPE = 2.0
# Event ids remembered for redelivery: far more than a partition's in-flight window.
SEEN_EVENTS = 64


@dataclass(frozen=True)
class LearnerProgress:
    """How many turns were analysed, their mean clarity, the recent ones, and the best per topic."""

    count: int = 0
    mean_clarity: float = 0.0
    recent: tuple[float, ...] = ()
    trend: Trend = "new"
    best_by_topic: Mapping[str, float] = field(default_factory=dict)
    seen_events: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, the shape stored in the progress table."""
        return {
            "count": self.count,
            "mean_clarity": self.mean_clarity,
            "recent": list(self.recent),
            "trend": self.trend,
            "best_by_topic": dict(self.best_by_topic),
            "seen_events": list(self.seen_events),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnerProgress:
        """The state back from :meth:`to_dict` (a restored table row)."""
        return cls(
            count=int(data["count"]),
            mean_clarity=float(data["mean_clarity"]),
            recent=tuple(float(x) for x in data["recent"]),
            trend=data["trend"],
            best_by_topic={str(k): float(v) for k, v in data["best_by_topic"].items()},
            seen_events=tuple(data.get("seen_events", ())),
        )


def fold_progress(
    previous: LearnerProgress | Mapping[str, Any] | None,
    report: QualityReport,
    *,
    topic: str,
    event_id: str,
) -> LearnerProgress:
    """The progress after one more analysed turn; ``previous`` unchanged if ``event_id`` was folded."""
    return fold_clarity(previous, report.clarity, topic=topic, event_id=event_id)


def fold_clarity(
    previous: LearnerProgress | Mapping[str, Any] | None,
    clarity: float,
    *,
    topic: str,
    event_id: str,
) -> LearnerProgress:
    """:func:`fold_progress` from the clarity alone (a report read back from a result event)."""
    if previous is None:
        state = LearnerProgress()
    elif isinstance(previous, LearnerProgress):
        state = previous
    else:
        state = LearnerProgress.from_dict(previous)
    if event_id in state.seen_events:
        return state
    count = state.count + 1
    recent = (*state.recent, clarity)[-RECENT:]
    key = topic_key(topic)
    best = dict(state.best_by_topic)
    best[key] = max(best.get(key, clarity), clarity)
    return replace(
        state,
        count=count,
        mean_clarity=round(state.mean_clarity + (clarity - state.mean_clarity) / count, 4),
        recent=recent,
        trend=trend(recent),
        best_by_topic=best,
        seen_events=(*state.seen_events, event_id)[-SEEN_EVENTS:],
    )


def trend(scores: tuple[float, ...]) -> Trend:
    """Direction of the scores by their least-squares slope; ``new`` below two scores."""
    n = len(scores)
    if n < 2:
        return "new"
    mean_x, mean_y = (n - 1) / 2, sum(scores) / n
    slope = sum((i - mean_x) * (y - mean_y) for i, y in enumerate(scores)) / sum(
        (i - mean_x) ** 2 for i in range(n)
    )
    if slope > TREND_SLOPE:
        return "improving"
    if slope < -TREND_SLOPE:
        return "declining"
    return "steady"


def topic_key(topic: str) -> str:
    """One key per topic however it is typed ("Gravity " and "gravity" are one topic)."""
    return " ".join(topic.split()).casefold()
