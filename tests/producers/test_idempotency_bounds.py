"""The Idempotency-Key cache stays within its byte bound, dropping the oldest responses first."""

from __future__ import annotations

import contextlib

from pydantic import BaseModel

from producers.idempotency import IdempotencyCache


class Reply(BaseModel):
    text: str


async def test_big_responses_evict_the_oldest_and_the_cache_stays_within_its_bytes() -> None:
    cache = IdempotencyCache(capacity=10_000, max_bytes=100_000)
    made: list[str] = []

    async def make(key: str) -> Reply:
        made.append(key)
        return Reply(text="x" * 20_000)  # /chat replies carry their short-term memory

    for n in range(20):
        await cache.run("/chat", f"k-{n}", "body", lambda n=n: make(f"k-{n}"))
        assert cache.bytes <= 100_000
    assert len(cache) == 4  # 4 x ~20.6 KB fit in 100 KB; the count bound (10 000) never mattered

    await cache.run("/chat", "k-19", "body", lambda: make("again"))
    await cache.run("/chat", "k-0", "body", lambda: make("k-0 again"))
    assert made[-1] == "k-0 again"  # the newest was replayed, the oldest made anew
    assert "again" not in made


async def test_a_response_larger_than_the_bound_is_not_kept() -> None:
    cache = IdempotencyCache(max_bytes=10_000)

    async def huge() -> Reply:
        return Reply(text="x" * 20_000)

    await cache.run("/chat", "k", "body", huge)
    assert len(cache) == 0 and cache.bytes == 0


async def test_a_failed_request_gives_its_bytes_back() -> None:
    cache = IdempotencyCache(max_bytes=10_000)

    async def failing() -> Reply:
        raise RuntimeError("kafka away")

    for _ in range(3):
        with contextlib.suppress(RuntimeError):
            await cache.run("/chat", "k", "body", failing)
    assert len(cache) == 0 and cache.bytes == 0
