"""The learner progress fold: counts, running mean, trend, best per topic, redelivery."""

from __future__ import annotations

import json
from dataclasses import replace

from domain.analysis import QualityReport, analyse
from domain.progress import SEEN_EVENTS, LearnerProgress, fold_clarity, fold_progress, trend
from tests.domain.corpus import by_id

_BASE = analyse(by_id("en-gravity-good").text, topic="gravity")


def _scored(clarity: float) -> QualityReport:
    return replace(_BASE, clarity=clarity)


def test_folding_reports_keeps_count_running_mean_and_best_per_topic() -> None:
    state = None
    for i, (topic, clarity) in enumerate([("Gravity", 40.0), ("gravity ", 70.0), ("复利", 55.0)]):
        state = fold_progress(state, _scored(clarity), topic=topic, event_id=f"e{i}")
    assert state is not None
    assert state.count == 3
    assert state.mean_clarity == 55.0
    assert state.best_by_topic == {"gravity": 70.0, "复利": 55.0}
    assert state.recent == (40.0, 70.0, 55.0)


def test_a_redelivered_turn_changes_nothing() -> None:
    once = fold_progress(None, _scored(60.0), topic="gravity", event_id="e1")
    assert fold_progress(once, _scored(60.0), topic="gravity", event_id="e1") is once
    assert fold_progress(once.to_dict(), _scored(60.0), topic="gravity", event_id="e1") == once


def test_the_trend_follows_the_recent_scores() -> None:
    assert trend((50.0,)) == "new"
    assert trend((30.0, 45.0, 60.0)) == "improving"
    assert trend((80.0, 60.0, 50.0)) == "declining"
    assert trend((60.0, 61.0, 59.0, 60.0)) == "steady"
    state = None
    for i, clarity in enumerate([90.0, 20.0, 30.0, 40.0, 50.0, 60.0]):
        state = fold_progress(state, _scored(clarity), topic="gravity", event_id=f"e{i}")
    assert state is not None
    assert state.recent == (20.0, 30.0, 40.0, 50.0, 60.0)
    assert state.trend == "improving"


def test_the_state_survives_a_json_round_trip() -> None:
    state = fold_progress(None, _scored(42.5), topic="光合作用", event_id="e1")
    restored = LearnerProgress.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    assert fold_progress(restored, _scored(80.0), topic="光合作用", event_id="e2").best_by_topic == {
        "光合作用": 80.0
    }


def test_a_clarity_read_back_from_a_result_event_folds_like_its_report() -> None:
    reports = [("gravity", 40.0, "e1"), ("Gravity", 70.0, "e2"), ("compound interest", 55.0, "e3")]
    from_reports, from_clarity = None, None
    for topic, clarity, event_id in reports:
        from_reports = fold_progress(from_reports, _scored(clarity), topic=topic, event_id=event_id)
        # The progress table hands back plain dicts (a restored row); the fold takes them as they are.
        previous = from_clarity.to_dict() if from_clarity is not None else None
        from_clarity = fold_clarity(previous, clarity, topic=topic, event_id=event_id)

    assert from_clarity == from_reports
    assert from_clarity is not None and from_clarity.best_by_topic == {
        "gravity": 70.0,
        "compound interest": 55.0,
    }


def test_a_clarity_folded_twice_from_a_restored_row_counts_once() -> None:
    once = fold_clarity(None, 62.5, topic="gravity", event_id="e1")

    again = fold_clarity(json.loads(json.dumps(once.to_dict())), 62.5, topic="gravity", event_id="e1")

    assert again == once and again.count == 1 and again.mean_clarity == 62.5


def test_the_seen_events_are_bounded_so_a_long_history_keeps_its_row_small() -> None:
    state = None
    for i in range(SEEN_EVENTS + 10):
        state = fold_clarity(state, 50.0, topic="gravity", event_id=f"e{i}")
    assert state is not None

    assert len(state.seen_events) == SEEN_EVENTS and state.count == SEEN_EVENTS + 10
    assert state.seen_events[-1] == f"e{SEEN_EVENTS + 9}"
