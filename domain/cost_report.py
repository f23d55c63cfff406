"""The daily cost report: one day's buckets added up per learner and per model.

Pure and exact (decimal strings in, decimal strings out), so the report a leader
publishes equals what ``GET /costs`` adds up from the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

FIELDS_INT = ("calls", "input_tokens", "output_tokens")
FIELDS_MONEY = ("input_cost", "output_cost", "cost")


def empty_total() -> dict[str, Any]:
    return {**dict.fromkeys(FIELDS_INT, 0), **dict.fromkeys(FIELDS_MONEY, "0")}


def add_totals(total: Mapping[str, Any], bucket: Mapping[str, Any]) -> dict[str, Any]:
    """``total`` plus one bucket's counts and costs."""
    out = dict(total)
    for name in FIELDS_INT:
        out[name] = int(out[name]) + int(bucket[name])
    for name in FIELDS_MONEY:
        out[name] = format((Decimal(out[name]) + Decimal(bucket[name])).normalize(), "f")
    return out


def sum_days(
    rows: Iterable[tuple[str, Mapping[str, Mapping[str, Any]]]], first: str, last: str
) -> dict[str, dict[str, Any]]:
    """Per learner, the totals of their day buckets with ``first <= day <= last`` (ISO dates)."""
    out: dict[str, dict[str, Any]] = {}
    for learner, days in rows:
        for day, bucket in days.items():
            if first <= day <= last:
                out[learner] = add_totals(out.get(learner) or empty_total(), bucket)
    return out


def sum_models(rows: Iterable[Mapping[str, Mapping[str, Any]]], day: str) -> dict[str, dict[str, Any]]:
    """Per model, the totals of the hour buckets (keyed ``model@YYYY-MM-DDTHH``, UTC) of ``day``."""
    out: dict[str, dict[str, Any]] = {}
    for hours in rows:
        for key, bucket in hours.items():
            model, _, hour = key.rpartition("@")
            if hour.startswith(day):
                out[model] = add_totals(out.get(model) or empty_total(), bucket)
    return out


def grand_total(parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    total = empty_total()
    for part in parts:
        total = add_totals(total, part)
    return total
