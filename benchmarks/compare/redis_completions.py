"""Completions a Celery or RQ job pushed onto a Redis list (``<job id> <time>``)."""

from __future__ import annotations

import redis.asyncio as aioredis

from benchmarks.compare.jobs import Completion


class ListCompletions:
    def __init__(self, url: str, key: str) -> None:
        self._client = aioredis.Redis.from_url(url)
        self._key = key

    async def drain(self) -> list[Completion]:
        out: list[Completion] = []
        while True:
            items = await self._client.lpop(self._key, 10_000)
            if not items:
                return out
            for item in items:
                job_id, at = item.decode().split()
                out.append(Completion(job_id, float(at)))

    async def close(self) -> None:
        await self._client.aclose()
