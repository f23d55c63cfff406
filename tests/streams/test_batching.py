"""Batched writes: full batches go at once, partial ones after the delay, failures reach every caller."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from streams.batching import Batcher


async def test_a_full_batch_is_written_at_once_and_a_partial_one_after_the_delay() -> None:
    written: list[list[int]] = []
    batcher: Batcher[int] = Batcher(lambda items: written.append(list(items)), max_items=3, max_delay_s=0.2)

    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(batcher.submit(i) for i in range(3)))
    assert written == [[0, 1, 2]] and loop.time() - started < 0.15

    started = loop.time()
    await asyncio.gather(batcher.submit(3), batcher.submit(4))
    assert written == [[0, 1, 2], [3, 4]] and loop.time() - started >= 0.19


async def test_a_failed_write_fails_every_caller_of_that_batch() -> None:
    def broken(items: Sequence[int]) -> None:
        raise OSError("disk full")

    batcher: Batcher[int] = Batcher(broken, max_items=2, max_delay_s=1.0)
    results = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert [type(r) for r in results] == [OSError, OSError]


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Batcher(lambda items: None, max_items=0, max_delay_s=1.0)
