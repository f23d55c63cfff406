"""The RQ job function: ``rq worker`` imports it by name."""

from __future__ import annotations

import time

from rq import get_current_job

from benchmarks.compare.workers.record import record_done


def run(job_id: str, sleep_s: float, done_key: str) -> None:
    if sleep_s > 0:
        time.sleep(sleep_s)
    job = get_current_job()
    assert job is not None
    record_done(job.connection, done_key, job_id)
