"""What every system runs: a job (an id, a session, its place in the session, a sleep)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    session: str
    seq: int  # position among its session's jobs, in submission order
    sleep_s: float = 0.0  # 0: a no-op task; > 0: an LLM-like call that waits this long


@dataclass(frozen=True, slots=True)
class Completion:
    """A job's completion as the system recorded it (wall clock of the machine, seconds)."""

    job_id: str
    at: float


def make_jobs(
    count: int, sessions: int, *, sleep_s: tuple[float, float] = (0.0, 0.0), seed: int = 8
) -> list[Job]:
    """``count`` jobs spread round-robin over ``sessions`` sessions, sleeps uniform in ``sleep_s``."""
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:6]
    low, high = sleep_s
    out = []
    for i in range(count):
        sleep = round(rng.uniform(low, high), 3) if high > 0 else 0.0
        out.append(Job(id=f"{tag}-{i}", session=f"s{tag}-{i % sessions}", seq=i // sessions, sleep_s=sleep))
    return out


def by_id(jobs: Iterable[Job]) -> dict[str, Job]:
    return {job.id: job for job in jobs}
