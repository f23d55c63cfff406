"""The compare report shows each figure's median and, over several repeats, its range."""

from __future__ import annotations

from benchmarks.compare.measurements import Figure
from benchmarks.compare.report import tables
from benchmarks.compare.runner import Outcome


def _throughput(system: str, *rates: float) -> list[Figure]:
    return [Figure("throughput", system, "tasks/s", rate, repeat=n) for n, rate in enumerate(rates)]


def test_a_figure_measured_in_several_repeats_shows_its_median_and_range() -> None:
    figures = [*_throughput("this pipeline", 400, 600, 500), *_throughput("Celery + Redis", 800)]
    outcome = Outcome(figures=figures)
    table = tables(outcome)
    assert "| - | this pipeline | 500 (400 to 600) | 1.00x |" in table
    assert "| - | Celery + Redis | 800 | 1.60x |" in table
