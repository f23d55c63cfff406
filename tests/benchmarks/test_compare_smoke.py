"""`feynman bench compare` keeps working: every system, every workload, at tiny sizes.

Figures are not checked (they belong to the benchmark's report); what is
checked is what a reader of the report relies on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.compare.main import compare
from benchmarks.compare.measurements import medians
from benchmarks.compare.report import write
from benchmarks.compare.sizes import TINY

pytestmark = pytest.mark.timeout(120)


def test_every_system_runs_every_workload_and_the_report_shows_them(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh installs it)")
    pytest.importorskip("celery")
    pytest.importorskip("rq")
    # The crash workload waits out session and visibility timeouts (tens of
    # seconds); it runs in the benchmark itself, not here.
    outcome = compare(TINY, 1, kafka_bootstrap, ("noop", "llm"))
    med = medians(outcome.figures)
    systems = {
        "this pipeline",
        "raw aiokafka",
        "asyncio.Queue (in-process)",
        "FastAPI BackgroundTasks",
        "Celery + Redis",
        "RQ + Redis",
    }

    for workload, metric in (("latency", "p99 ms"), ("llm", "completion s")):
        assert {s for (w, _, m, s) in med if w == workload and m == metric} == systems
    assert {s for (w, _, m, s) in med if w == "throughput" and m == "tasks/s"} == systems | {
        "Kafka perf tools (broker ceiling)"
    }
    assert all(v > 0 for (w, _, m, _), v in med.items() if m == "tasks/s")
    assert med[("llm", "c=3", "order violations", "this pipeline")] == 0

    report = write(outcome, tmp_path / "benchmarks.md", "feynman bench compare --tiny", 1).read_text()
    assert report.startswith("# Benchmarks") and "feynman bench compare --tiny" in report
    assert all(s in report for s in systems)
    assert "Kafka broker" in report and "Redis server" in report and "How to read the tables" in report
    assert (tmp_path / "benchmarks-throughput.png").stat().st_size > 0
