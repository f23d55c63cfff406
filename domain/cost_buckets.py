"""Cost totals per time window: per learner per day, per model per hour.

A bucket is a plain JSON dict, the row a changelog-backed table keeps. Usages arrive
at least once, so a bucket remembers the event ids it has counted and adding one twice
changes nothing. Each bucket carries ``expires_at`` (its window's end plus a retention):
a bucket restored from the changelog after its time is gone to by the runtime's cleanup,
which asks :func:`expired`, rather than by a timer that a restart would lose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from domain.pricing import PricedUsage, PricingError


@dataclass(frozen=True)
class Window:
    """A time window: its key (``2025-03-01`` or ``2025-03-01T13``) and its bounds."""

    key: str
    start: datetime
    end: datetime


def day_bucket(ts: datetime, tz: str | tzinfo = "UTC") -> Window:
    """The calendar day holding ``ts`` in the learner's time zone.

    A learner's "today" ends at their midnight, not UTC's; the window is 23 or 25 hours
    on the days clocks change, since it runs from one local midnight to the next.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = _aware(ts).astimezone(zone)
    start = datetime.combine(local.date(), time(), tzinfo=zone)
    end = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=zone)
    return Window(key=local.date().isoformat(), start=start, end=end)


def hour_bucket(ts: datetime) -> Window:
    """The UTC hour holding ``ts`` (operators compare models hour by hour, in one clock)."""
    start = _aware(ts).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return Window(key=start.strftime("%Y-%m-%dT%H"), start=start, end=start + timedelta(hours=1))


def add_usage(
    bucket: dict[str, Any] | None,
    *,
    usage_id: str,
    usage: PricedUsage,
    window: Window,
    retention: timedelta,
) -> dict[str, Any]:
    """The bucket with one more priced usage; the same bucket if ``usage_id`` was counted."""
    current = bucket or _empty(window, usage.currency, retention)
    if usage_id in current["usage_ids"]:
        return current
    if current["currency"] != usage.currency:
        raise PricingError(f"bucket {window.key} is in {current['currency']}, usage in {usage.currency}")
    models = dict(current["models"])
    models[usage.model] = models.get(usage.model, 0) + 1
    return {
        **current,
        "calls": current["calls"] + 1,
        "input_tokens": current["input_tokens"] + usage.input_tokens,
        "output_tokens": current["output_tokens"] + usage.output_tokens,
        "input_cost": _text(Decimal(current["input_cost"]) + usage.input_cost),
        "output_cost": _text(Decimal(current["output_cost"]) + usage.output_cost),
        "cost": _text(Decimal(current["cost"]) + usage.cost),
        "models": models,
        "usage_ids": [*current["usage_ids"], usage_id],
    }


def expired(bucket: dict[str, Any], now: datetime) -> bool:
    """Whether the cleanup may delete the bucket: its window ended more than the retention ago."""
    return _aware(now) >= datetime.fromisoformat(bucket["expires_at"])


def _empty(window: Window, currency: str, retention: timedelta) -> dict[str, Any]:
    return {
        "window": window.key,
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "expires_at": (window.end + retention).astimezone(UTC).isoformat(),
        "currency": currency,
        "calls": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "input_cost": "0",
        "output_cost": "0",
        "cost": "0",
        "models": {},
        "usage_ids": [],
    }


def _text(amount: Decimal) -> str:
    """Exact and plain ("0.00000015", never "1.5E-7"), so the JSON row reads and sums back exactly."""
    return format(amount.normalize(), "f")


def _aware(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("timestamps must carry a time zone (event times are RFC 3339 UTC)")
    return ts


def prune(buckets: dict[str, dict[str, Any]], now: datetime) -> dict[str, dict[str, Any]]:
    """The buckets of a table row that have not expired (a restored row expires like any other)."""
    return {key: bucket for key, bucket in buckets.items() if not expired(bucket, now)}
