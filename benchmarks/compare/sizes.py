"""How big each workload is: the full run and ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sizes:
    tasks: int  # (a) no-op jobs
    warmup_tasks: int
    perf_records: int  # (a) Kafka's perf tools
    rates: tuple[float, ...]  # (b) offered jobs/s
    rate_duration_s: float
    rate_warmup_s: float
    llm_tasks: int  # (c)
    llm_sessions: int
    llm_sleep_s: tuple[float, float]
    llm_concurrency: tuple[int, ...]
    crash_tasks: int  # (d)
    crash_sleep_s: float
    restart_entries: int  # (e)


FULL = Sizes(
    tasks=50_000,
    warmup_tasks=1_000,
    perf_records=1_000_000,
    rates=(100, 500, 1000),
    rate_duration_s=10,
    rate_warmup_s=2,
    llm_tasks=2_000,
    llm_sessions=200,
    llm_sleep_s=(1.0, 5.0),
    llm_concurrency=(50, 100, 200),
    crash_tasks=2_000,
    crash_sleep_s=0.02,
    restart_entries=1_000_000,
)

QUICK = Sizes(
    tasks=2_000,
    warmup_tasks=200,
    perf_records=200_000,
    rates=(50, 200),
    rate_duration_s=3,
    rate_warmup_s=1,
    llm_tasks=120,
    llm_sessions=12,
    llm_sleep_s=(0.1, 0.5),
    llm_concurrency=(4, 12),
    crash_tasks=300,
    crash_sleep_s=0.02,
    restart_entries=20_000,
)

# Smallest sizes that still exercise every path (the smoke test).
TINY = Sizes(
    tasks=100,
    warmup_tasks=20,
    perf_records=5_000,
    rates=(50,),
    rate_duration_s=1,
    rate_warmup_s=0.5,
    llm_tasks=12,
    llm_sessions=3,
    llm_sleep_s=(0.05, 0.1),
    llm_concurrency=(3,),
    crash_tasks=60,
    crash_sleep_s=0.02,
    restart_entries=500,
)
