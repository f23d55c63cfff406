"""Latency percentiles and throughput per task type, over a window of recent minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from producers.webview.stats import Finish, FinishLog, percentile

NOW = datetime(2026, 11, 28, 12, 30, 40, tzinfo=UTC)


def test_percentiles_are_values_that_occurred_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile(values, 99) == 99
    assert percentile([3.0], 99) == 3.0
    assert percentile([1.0, 10.0], 50) == 1.0 and percentile([1.0, 10.0], 95) == 10.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_is_per_type_and_only_over_the_window() -> None:
    log = FinishLog()
    for n in range(1, 21):
        log.add(Finish("transcript", "completed", NOW - timedelta(seconds=n), latency_s=n / 10))
    log.add(Finish("analysis", "dead", NOW - timedelta(minutes=2), latency_s=7.0))
    log.add(Finish("analysis", "completed", NOW - timedelta(minutes=20), latency_s=99.0))  # too old
    out = log.latency(NOW, timedelta(minutes=5))
    assert set(out) == {"analysis", "transcript"}
    assert out["analysis"].count == 1 and out["analysis"].percentiles == {50: 7.0, 95: 7.0, 99: 7.0}
    assert out["transcript"].count == 20
    assert out["transcript"].percentiles == {50: 1.0, 95: 1.9, 99: 2.0}


def test_throughput_counts_finishes_per_minute_with_the_current_minute_last() -> None:
    log = FinishLog()
    log.add(Finish("transcript", "completed", NOW, 0.1))
    log.add(Finish("transcript", "completed", NOW - timedelta(seconds=30), 0.1))  # 12:30:10
    log.add(Finish("transcript", "completed", NOW - timedelta(minutes=1), 0.1))  # 12:29:40
    log.add(Finish("analysis", "completed", NOW - timedelta(minutes=2), 0.1))  # 12:28:40
    log.add(Finish("analysis", "completed", NOW - timedelta(minutes=3), 0.1))  # outside 3 minutes
    series = log.throughput(NOW, 3)
    assert [m.strftime("%H:%M") for m in series.minutes] == ["12:28", "12:29", "12:30"]
    assert series.per_type == {"analysis": [1, 0, 0], "transcript": [0, 1, 2]}


def test_only_the_last_finishes_are_kept() -> None:
    log = FinishLog(capacity=2)
    for n in range(3):
        log.add(Finish("transcript", "completed", NOW, float(n)))
    assert log.latency(NOW, timedelta(minutes=1))["transcript"].count == 2
