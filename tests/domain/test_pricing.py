"""Pricing from the price table, and cost buckets that survive redelivery and expire."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from domain.cost_buckets import add_usage, day_bucket, expired, hour_bucket
from domain.pricing import PricingError, UnknownModelError, load_prices, price_usage
from foundation.errors import FeynmanError

TABLE = load_prices()


def test_a_call_is_priced_exactly_from_the_shipped_table() -> None:
    usage = price_usage(TABLE, "gpt-4o-mini", input_tokens=1_000_000, output_tokens=3)
    assert usage.input_cost == Decimal("0.15")
    assert usage.output_cost == Decimal("0.0000018")
    assert usage.cost == Decimal("0.1500018")
    assert usage.currency == "USD"


def test_a_dated_snapshot_takes_its_familys_price_and_the_longest_family_wins() -> None:
    assert price_usage(TABLE, "gpt-4o-2024-08-06", 1_000_000, 0).cost == Decimal("2.5")
    assert price_usage(TABLE, "gpt-4o-mini-2024-07-18", 1_000_000, 0).cost == Decimal("0.15")


def test_an_unknown_model_is_a_project_error_naming_the_model() -> None:
    with pytest.raises(UnknownModelError) as caught:
        price_usage(TABLE, "gpt-5-turbo-max", 10, 10)
    assert isinstance(caught.value, FeynmanError)
    assert caught.value.model == "gpt-5-turbo-max"


def test_a_custom_table_is_read_and_a_broken_one_is_refused(tmp_path: Path) -> None:
    good = tmp_path / "prices.toml"
    good.write_text('currency = "EUR"\n[models.m]\ninput_per_million = 0.1\noutput_per_million = 0.3\n')
    table = load_prices(good)
    assert table.currency == "EUR"
    assert price_usage(table, "m", 3, 0).cost == Decimal("0.0000003")
    bad = tmp_path / "bad.toml"
    bad.write_text('currency = "EUR"\n[models.m]\ninput_per_million = 0.1\n')
    with pytest.raises(PricingError):
        load_prices(bad)


def test_ten_million_small_calls_add_up_without_float_drift() -> None:
    usage = price_usage(TABLE, "gpt-4o-mini", 1, 1)
    assert usage.cost * 10_000_000 == Decimal("7.5")


def test_the_day_is_the_learners_local_day_including_clock_changes() -> None:
    late_utc = datetime(2025, 3, 29, 23, 30, tzinfo=UTC)
    assert day_bucket(late_utc).key == "2025-03-29"
    paris = day_bucket(late_utc, "Europe/Paris")
    assert paris.key == "2025-03-30"
    assert paris.end.astimezone(UTC) - paris.start.astimezone(UTC) == timedelta(hours=23)
    assert paris.start <= late_utc < paris.end


def test_the_hour_is_a_utc_hour() -> None:
    window = hour_bucket(datetime.fromisoformat("2025-03-01T14:59:59.9+02:00"))
    assert window.key == "2025-03-01T12"
    assert window.end - window.start == timedelta(hours=1)
    with pytest.raises(ValueError):
        hour_bucket(datetime(2025, 3, 1, 12))


def test_a_redelivered_usage_is_counted_once_and_the_bucket_stays_json() -> None:
    window = hour_bucket(datetime(2025, 3, 1, 12, 5, tzinfo=UTC))
    first = price_usage(TABLE, "gpt-4o", 1000, 500)
    second = price_usage(TABLE, "claude-sonnet-4", 2000, 100)
    bucket = None
    for usage_id, usage in [("u1", first), ("u2", second), ("u1", first)]:
        bucket = add_usage(bucket, usage_id=usage_id, usage=usage, window=window, retention=timedelta(days=1))
        bucket = json.loads(json.dumps(bucket))  # as restored from the changelog
    assert bucket is not None
    assert bucket["calls"] == 2
    assert (bucket["input_tokens"], bucket["output_tokens"]) == (3000, 600)
    assert Decimal(bucket["cost"]) == first.cost + second.cost == Decimal("0.015")
    assert bucket["models"] == {"gpt-4o": 1, "claude-sonnet-4": 1}


def test_a_bucket_of_another_currency_refuses_the_usage() -> None:
    window = hour_bucket(datetime(2025, 3, 1, 12, tzinfo=UTC))
    bucket = add_usage(
        None, usage_id="u1", usage=price_usage(TABLE, "gpt-4o", 1, 1), window=window, retention=timedelta()
    )
    bucket["currency"] = "EUR"
    with pytest.raises(PricingError):
        add_usage(
            bucket,
            usage_id="u2",
            usage=price_usage(TABLE, "gpt-4o", 1, 1),
            window=window,
            retention=timedelta(),
        )


def test_a_bucket_expires_after_its_window_and_retention() -> None:
    window = day_bucket(datetime(2025, 3, 1, 8, tzinfo=UTC))
    usage = price_usage(TABLE, "local", 10, 10)
    bucket = add_usage(None, usage_id="u1", usage=usage, window=window, retention=timedelta(days=7))
    assert Decimal(bucket["cost"]) == 0
    assert not expired(bucket, datetime(2025, 3, 8, 23, 59, tzinfo=UTC))
    assert expired(bucket, datetime(2025, 3, 9, 0, 0, tzinfo=UTC))
