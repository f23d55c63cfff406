"""Prometheus counter families built from plain counts, one way for every worker collector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily


def counter_family(
    name: str, documentation: str, labels: Sequence[str], counts: Mapping[Any, float]
) -> CounterMetricFamily:
    """A counter per key of ``counts``: a tuple of label values in ``labels`` order, or one value."""
    family = CounterMetricFamily(name, documentation, labels=list(labels))
    for key, n in sorted(counts.items()):
        family.add_metric(list(key) if isinstance(key, tuple) else [key], n)
    return family
