"""Lag rows: the worker's own lag rule applied to the group's committed offsets."""

from __future__ import annotations

from producers.webview.lag import lag_rows


def test_lag_is_from_the_committed_offset_or_the_log_start_to_the_log_end() -> None:
    partitions = {("c", 1), ("c", 0), ("r", 0)}
    rows = lag_rows(
        partitions,
        committed={("c", 0): 5},
        earliest={("c", 0): 0, ("c", 1): 3, ("r", 0): 0},
        end={("c", 0): 9, ("c", 1): 10, ("r", 0): 0},
    )
    assert [(r.topic, r.partition, r.committed, r.end, r.lag) for r in rows] == [
        ("c", 0, 5, 9, 4),
        ("c", 1, None, 10, 7),  # never committed: everything the log still holds is waiting
        ("r", 0, None, 0, 0),
    ]


def test_an_unknown_log_end_is_an_unknown_lag() -> None:
    [row] = lag_rows({("c", 0)}, committed={("c", 0): 1}, earliest={}, end={})
    assert row.lag is None
