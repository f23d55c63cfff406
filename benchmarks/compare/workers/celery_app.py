"""The Celery app: ``celery -A benchmarks.compare.workers.celery_app worker`` (broker: Redis).

Configured for at-least-once, the fair match for Kafka: a job is acked after
it ran (``acks_late``), a job whose worker died is given back, and Redis
redelivers unacked jobs after ``visibility_timeout``.
"""

from __future__ import annotations

import os
import time

import redis
from celery import Celery

from benchmarks.compare.workers.record import record_done

TASK = "bench.run"
VISIBILITY_TIMEOUT_S = 20


def make_app(url: str) -> Celery:
    app = Celery("feynman-bench", broker=url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=4,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
app = make_app(URL)
_client = redis.Redis.from_url(URL)


@app.task(name=TASK)
def run(job_id: str, sleep_s: float, done_key: str) -> None:
    if sleep_s > 0:
        time.sleep(sleep_s)
    record_done(_client, done_key, job_id)
