"""The daily cost report and GET /costs totals: exact sums per learner, per model and overall."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.cost_buckets import add_usage, day_bucket, hour_bucket
from domain.cost_report import empty_total, grand_total, sum_days, sum_models
from domain.pricing import load_prices, price_usage

TABLE = load_prices()
RETENTION = timedelta(days=400)


def rows() -> tuple[list[tuple[str, dict]], list[dict]]:
    """Day rows per learner and hour rows, as the two cost tables hold them (JSON, restored)."""
    calls = [
        ("ada", "gpt-4o-mini", datetime(2025, 3, 1, 9, tzinfo=UTC), 1_000_000, 0),
        ("ada", "gpt-4o-mini", datetime(2025, 3, 1, 23, tzinfo=UTC), 0, 1_000_000),
        ("ada", "gpt-4o", datetime(2025, 3, 2, 1, tzinfo=UTC), 1_000_000, 0),
        ("bo", "gpt-4o", datetime(2025, 3, 1, 12, tzinfo=UTC), 1, 1),
    ]
    days: dict[str, dict] = {}
    hours: dict[str, dict] = {}
    for i, (learner, model, ts, tokens_in, tokens_out) in enumerate(calls):
        usage = price_usage(TABLE, model, tokens_in, tokens_out)
        day, hour = day_bucket(ts), hour_bucket(ts)
        mine = days.setdefault(learner, {})
        mine[day.key] = add_usage(
            mine.get(day.key), usage_id=f"e{i}", usage=usage, window=day, retention=RETENTION
        )
        theirs = hours.setdefault(learner, {})
        slot = f"{model}@{hour.key}"
        theirs[slot] = add_usage(
            theirs.get(slot), usage_id=f"e{i}", usage=usage, window=hour, retention=RETENTION
        )
    days, hours = json.loads(json.dumps(days)), json.loads(json.dumps(hours))
    return list(days.items()), list(hours.values())


def test_a_day_adds_up_per_learner_exactly() -> None:
    day_rows, _ = rows()

    by_user = sum_days(day_rows, "2025-03-01", "2025-03-01")

    # ada: 1M input tokens of gpt-4o-mini (0.15) + 1M output tokens (0.6); bo: 1 + 1 tokens of gpt-4o.
    assert by_user["ada"] == {
        "calls": 2,
        "input_tokens": 1_000_000,
        "output_tokens": 1_000_000,
        "input_cost": "0.15",
        "output_cost": "0.6",
        "cost": "0.75",
    }
    assert by_user["bo"]["calls"] == 1 and Decimal(by_user["bo"]["cost"]) == Decimal("0.0000125")


def test_a_range_includes_both_ends_and_learners_without_usage_in_it_are_left_out() -> None:
    day_rows, _ = rows()

    assert sum_days(day_rows, "2025-03-01", "2025-03-02")["ada"]["calls"] == 3
    assert set(sum_days(day_rows, "2025-03-02", "2025-03-31")) == {"ada"}
    assert sum_days(day_rows, "2025-04-01", "2025-04-30") == {}


def test_models_are_summed_from_the_hours_of_the_day_even_with_at_signs_in_their_names() -> None:
    _, hour_rows = rows()
    hour_rows.append({"org@custom@2025-03-01T05": {**empty_total(), "calls": 4, "cost": "1"}})

    by_model = sum_models(hour_rows, "2025-03-01")

    assert set(by_model) == {"gpt-4o-mini", "gpt-4o", "org@custom"}
    assert by_model["gpt-4o-mini"]["calls"] == 2 and by_model["gpt-4o"]["calls"] == 1
    assert by_model["org@custom"] == {**empty_total(), "calls": 4, "cost": "1"}


def test_the_grand_total_equals_the_learners_and_the_models_totals() -> None:
    day_rows, hour_rows = rows()

    by_user = grand_total(sum_days(day_rows, "2025-03-01", "2025-03-01").values())
    by_model = grand_total(sum_models(hour_rows, "2025-03-01").values())

    assert by_user == by_model
    assert by_user["cost"] == "0.7500125"
    assert (
        grand_total([])
        == empty_total()
        == {
            "calls": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "input_cost": "0",
            "output_cost": "0",
            "cost": "0",
        }
    )
