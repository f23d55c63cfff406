"""Cost cleanup: which buckets the periodic prune keeps, in live rows and rows restored from the changelog."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.cost_buckets import add_usage, day_bucket, expired, hour_bucket, prune
from domain.pricing import load_prices, price_usage

TABLE = load_prices()
USAGE = price_usage(TABLE, "gpt-4o-mini", 1_000, 200)
DAY_RETENTION, HOUR_RETENTION = timedelta(days=400), timedelta(days=35)


def day_row(*days: datetime, tz: str = "UTC") -> dict[str, dict]:
    """A cost_user_day row: one bucket per day, each with one usage."""
    row = {}
    for i, ts in enumerate(days):
        window = day_bucket(ts, tz)
        row[window.key] = add_usage(
            row.get(window.key), usage_id=f"u{i}", usage=USAGE, window=window, retention=DAY_RETENTION
        )
    return row


def restored(row: dict[str, dict]) -> dict[str, dict]:
    """The row as a restarted worker reads it back from the changelog (JSON)."""
    return json.loads(json.dumps(row))


def test_the_cleanup_drops_only_buckets_past_their_window_and_retention() -> None:
    row = day_row(datetime(2024, 1, 10, 9, tzinfo=UTC), datetime(2025, 2, 1, 9, tzinfo=UTC))
    # 2024-01-10's window ended 2024-01-11 00:00; 400 days later is 2025-02-14 00:00.
    before, after = datetime(2025, 2, 13, 23, 59, tzinfo=UTC), datetime(2025, 2, 14, tzinfo=UTC)

    assert set(prune(row, before)) == {"2024-01-10", "2025-02-01"}
    assert set(prune(row, after)) == {"2025-02-01"}
    assert prune(row, after)["2025-02-01"] == row["2025-02-01"]  # kept buckets are untouched


def test_a_restored_row_expires_exactly_like_the_live_one() -> None:
    live = day_row(datetime(2024, 1, 10, 9, tzinfo=UTC), datetime(2025, 2, 1, 9, tzinfo=UTC))
    back = restored(live)

    for now in (
        datetime(2025, 2, 13, tzinfo=UTC),
        datetime(2025, 2, 14, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    ):
        assert prune(back, now) == prune(live, now)


def test_a_row_restored_long_after_every_bucket_expired_is_emptied_on_the_first_cleanup() -> None:
    # A worker down for months: no timer survived, the buckets' own expires_at still decide.
    back = restored(day_row(datetime(2023, 5, 1, tzinfo=UTC), datetime(2023, 6, 1, tzinfo=UTC)))

    assert prune(back, datetime(2025, 1, 1, tzinfo=UTC)) == {}


def test_a_local_day_expires_from_the_learners_midnight_not_utc() -> None:
    # 2025-03-01 in Shanghai ends at 2025-03-01T16:00Z; plus 400 days.
    [bucket] = day_row(datetime(2025, 3, 1, 2, tzinfo=UTC), tz="Asia/Shanghai").values()
    end = datetime(2025, 3, 1, 16, tzinfo=UTC) + DAY_RETENTION

    assert bucket["window"] == "2025-03-01"
    assert not expired(bucket, end - timedelta(seconds=1))
    assert expired(bucket, end)
    # The cleanup's clock may read in any zone: the same instant is the same answer.
    assert expired(restored({"d": bucket})["d"], end.astimezone(ZoneInfo("America/New_York")))


def test_hour_buckets_of_several_models_are_pruned_one_by_one() -> None:
    row = {}
    for model, ts in (
        ("gpt-4o-mini", datetime(2025, 1, 1, 10, 30, tzinfo=UTC)),
        ("gpt-4o", datetime(2025, 1, 20, 8, tzinfo=UTC)),
    ):
        window = hour_bucket(ts)
        row[f"{model}@{window.key}"] = add_usage(
            None, usage_id=model, usage=USAGE, window=window, retention=HOUR_RETENTION
        )

    kept = prune(restored(row), datetime(2025, 2, 5, 11, tzinfo=UTC))  # 35 days after 2025-01-01T11

    assert list(kept) == ["gpt-4o@2025-01-20T08"]
