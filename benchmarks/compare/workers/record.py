"""How a Celery or RQ job records its completion: one entry on a Redis list."""

from __future__ import annotations

import time

import redis


def record_done(client: redis.Redis, key: str, job_id: str) -> None:
    client.rpush(key, f"{job_id} {time.time()}")
