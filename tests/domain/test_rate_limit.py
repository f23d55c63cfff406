"""The per-model rate limiter, on virtual time: budgets, settling, 429 pauses, fairness, no deadlock.

Over 400 lines: the virtual clock the cases share lives here, with them.

Every test but one drives the limiter with :class:`VirtualTime`: a clock that
moves only when the test advances it, and a sleep that returns when the clock
passes its deadline. Nothing really waits, and every start time is exact. One
test runs on the real clock, with a tolerant lower bound only, to show the
defaults are wired to real time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from domain.llm.client import Completion
from domain.llm.errors import LlmError
from domain.rate_limit import ModelLimits, RateLimiter

DOC = Path(__file__).resolve().parents[2] / "docs" / "rate-limits.md"
# Rounds of the event loop after each step of virtual time: enough for a fired timer to reach the
# waiting head, for its grants to resume their callers and for the next head to go back to sleep.
SETTLE_ROUNDS = 20
UNLIMITED = math.inf


class VirtualTime:
    """A clock that only moves when the test says so, and a sleep that waits for it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        timer = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + seconds, next(self._order), timer))
        await timer

    @property
    def sleeping(self) -> int:
        """Sleeps not yet over (cancelled ones excluded)."""
        return sum(1 for _, _, timer in self._timers if not timer.done())

    async def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` on, firing each timer at its own deadline, in order."""
        target = self.now + seconds
        await settle()
        while self._timers and self._timers[0][0] <= target:
            deadline, _, timer = heapq.heappop(self._timers)
            self.now = max(self.now, deadline)
            if not timer.done():
                timer.set_result(None)
                await settle()
        self.now = target
        await settle()


async def settle() -> None:
    for _ in range(SETTLE_ROUNDS):
        await asyncio.sleep(0)


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


def limiter_for(vt: VirtualTime, limits: dict[str, ModelLimits], **kwargs: Any) -> RateLimiter:
    return RateLimiter(limits, clock=vt.clock, sleep=vt.sleep, **kwargs)


class Starts:
    """Callers started as tasks; records, in order, who got through and when."""

    def __init__(self, limiter: RateLimiter, vt: VirtualTime) -> None:
        self.limiter = limiter
        self.vt = vt
        self.log: list[tuple[str, float]] = []
        self.tasks: list[asyncio.Task[None]] = []

    def call(self, label: str, model: str = "m", tokens: int = 0) -> asyncio.Task[None]:
        async def run() -> None:
            await self.limiter.acquire(model, tokens=tokens)
            self.log.append((label, self.vt.now))

        task = asyncio.get_running_loop().create_task(run())
        self.tasks.append(task)
        return task

    def at(self, label: str) -> float:
        [when] = [when for who, when in self.log if who == label]
        return when

    @property
    def order(self) -> list[str]:
        return [who for who, _ in self.log]

    async def finish(self) -> None:
        """Fail loudly if a caller is still waiting; never leave a task behind on the shared loop."""
        pending = [task for task in self.tasks if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        assert not pending, f"{len(pending)} caller(s) still waiting"


async def test_requests_beyond_the_per_minute_budget_wait_for_the_bucket_to_refill(vt: VirtualTime) -> None:
    starts = Starts(limiter_for(vt, {"m": ModelLimits(3, UNLIMITED)}), vt)
    for label in "abcde":
        starts.call(label)

    await vt.advance(120)

    # Three at once (a minute's burst), then one every 60/3 = 20 s.
    assert starts.log == [("a", 0), ("b", 0), ("c", 0), ("d", 20), ("e", 40)]
    await starts.finish()


async def test_the_token_budget_limits_on_its_own_while_requests_are_plentiful(vt: VirtualTime) -> None:
    starts = Starts(limiter_for(vt, {"m": ModelLimits(1000, 600)}), vt)  # 10 tokens/s
    starts.call("drain", tokens=600)
    starts.call("next", tokens=100)

    await vt.advance(60)

    assert starts.log == [("drain", 0), ("next", 10)]
    await starts.finish()


async def test_settle_refunds_an_overestimate_so_the_next_caller_goes_sooner(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(1000, 600)})
    await limiter.acquire("m", tokens=600)

    limiter.settle("m", estimated=600, actual=100)

    assert limiter.snapshot()["m"]["tokens"] == 500
    starts = Starts(limiter, vt)
    starts.call("refunded", tokens=500)
    await settle()
    assert starts.log == [("refunded", 0)]
    await starts.finish()


async def test_a_refund_wakes_a_caller_that_is_already_waiting(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(1000, 600)})
    starts = Starts(limiter, vt)
    starts.call("drain", tokens=600)
    starts.call("waiting", tokens=300)  # would otherwise wait 30 s
    await vt.advance(5)

    limiter.settle("m", estimated=600, actual=200)
    await vt.advance(0)

    assert starts.log == [("drain", 0), ("waiting", 5)]
    await starts.finish()


async def test_settle_charges_an_underestimate_as_debt_that_later_callers_wait_out(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(1000, 600)})
    await limiter.acquire("m", tokens=100)

    limiter.settle("m", estimated=100, actual=700)

    assert limiter.snapshot()["m"]["tokens"] == -100
    starts = Starts(limiter, vt)
    starts.call("after", tokens=100)
    await vt.advance(60)
    assert starts.log == [("after", 20)]  # 200 tokens short at 10 tokens/s
    await starts.finish()


async def test_a_refund_never_fills_the_bucket_beyond_its_capacity(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(1000, 600)})
    await limiter.acquire("m", tokens=10)

    limiter.settle("m", estimated=5000, actual=0)

    assert limiter.snapshot()["m"]["tokens"] == 600


async def test_back_off_pauses_only_that_model(vt: VirtualTime) -> None:
    limits = {"a": ModelLimits(100, UNLIMITED), "b": ModelLimits(100, UNLIMITED)}
    limiter = limiter_for(vt, limits)
    starts = Starts(limiter, vt)

    limiter.back_off("a", 30)
    starts.call("a", model="a")
    starts.call("b", model="b")
    await vt.advance(60)

    assert starts.log == [("b", 0), ("a", 30)]
    await starts.finish()


async def test_the_longest_pause_wins_whichever_comes_first(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(100, UNLIMITED)})
    starts = Starts(limiter, vt)

    limiter.back_off("m", 30)
    limiter.back_off("m", 10)  # a shorter Retry-After from another task does not cut the pause
    starts.call("first")
    await vt.advance(20)
    limiter.back_off("m", 40)  # a longer one, while "first" is already waiting, extends it to t=60
    await vt.advance(60)

    assert starts.log == [("first", 60)]
    await starts.finish()


async def test_a_429_pauses_even_a_model_without_limits(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {})
    starts = Starts(limiter, vt)

    limiter.back_off("free", 15)
    starts.call("x", model="free", tokens=10**9)
    await vt.advance(30)

    assert starts.log == [("x", 15)]
    await starts.finish()


async def test_a_large_waiting_request_is_served_before_later_small_ones(vt: VirtualTime) -> None:
    starts = Starts(limiter_for(vt, {"m": ModelLimits(1000, 600)}), vt)  # 10 tokens/s
    starts.call("drain", tokens=600)
    starts.call("big", tokens=500)
    await settle()
    for n in range(5):
        # Each would fit after 1 s of refill, long before the big one; they still queue behind it.
        starts.call(f"small{n}", tokens=10)

    await vt.advance(120)

    assert starts.order == ["drain", "big", "small0", "small1", "small2", "small3", "small4"]
    assert [when for _, when in starts.log] == [0, 50, 51, 52, 53, 54, 55]
    await starts.finish()


async def test_an_oversized_request_waits_for_a_full_bucket_then_proceeds_alone(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(1000, 100)})  # 100 tokens/min, 5/3 tokens/s
    starts = Starts(limiter, vt)
    starts.call("some", tokens=10)
    starts.call("huge", tokens=250)  # more than the bucket ever holds: waits for it to be full
    starts.call("tiny", tokens=1)  # then waits out the debt of 150 tokens plus its own 1

    await vt.advance(200)

    assert starts.order == ["some", "huge", "tiny"]
    assert starts.at("huge") == pytest.approx(6)
    assert starts.at("tiny") == pytest.approx(6 + 151 * 60 / 100)
    await starts.finish()


async def test_an_oversized_request_on_a_full_bucket_goes_at_once(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(1000, 100)})

    await asyncio.wait_for(limiter.acquire("m", tokens=10_000), timeout=1)

    assert limiter.snapshot()["m"]["tokens"] == 100 - 10_000


async def test_models_without_limits_never_wait(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"limited": ModelLimits(1, 1)})

    async with asyncio.timeout(1):  # real time, as a guard: the virtual clock never moves here
        await asyncio.gather(*(limiter.acquire("free", tokens=10**9) for _ in range(1000)))

    assert vt.sleeping == 0
    assert "free" not in limiter.snapshot()
    limiter.settle("free", estimated=1, actual=10**9)  # nothing to correct, and no error


async def test_a_default_gives_every_unnamed_model_a_budget_of_its_own(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {}, default=ModelLimits(1, UNLIMITED))
    starts = Starts(limiter, vt)
    starts.call("x1", model="x")
    starts.call("y1", model="y")
    starts.call("x2", model="x")

    await vt.advance(120)

    assert starts.log == [("x1", 0), ("y1", 0), ("x2", 60)]
    await starts.finish()


async def test_a_hundred_concurrent_callers_at_60_rpm_start_at_most_once_a_second_after_the_burst(
    vt: VirtualTime,
) -> None:
    starts = Starts(limiter_for(vt, {"m": ModelLimits(60, UNLIMITED)}), vt)
    for n in range(100):
        starts.call(f"{n:03}")

    await vt.advance(100)

    times = [when for _, when in starts.log]
    assert len(times) == 100
    assert times[:60] == [0] * 60  # the burst: one minute's budget
    after_burst = times[60:]
    assert all(later - earlier >= 1 - 1e-9 for earlier, later in itertools.pairwise(after_burst))
    assert after_burst[-1] == pytest.approx(40)  # ... and no slower than the budget either
    assert starts.order == sorted(starts.order)  # first come, first served
    await starts.finish()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_traffic_never_exceeds_burst_plus_refill_and_keeps_arrival_order(
    vt: VirtualTime, seed: int
) -> None:
    rpm, tpm = 30, 1000
    starts = Starts(limiter_for(vt, {"m": ModelLimits(rpm, tpm)}), vt)
    rng = random.Random(seed)
    tokens = {f"{n:03}": rng.randint(0, 300) for n in range(150)}
    for label, amount in tokens.items():
        await vt.advance(rng.expovariate(1 / 2))
        starts.call(label, tokens=amount)

    await vt.advance(3600)

    assert starts.order == list(tokens)
    sent_tokens = 0
    for sent_requests, (label, when) in enumerate(starts.log, start=1):
        sent_tokens += tokens[label]
        assert sent_requests <= rpm * (1 + when / 60) + 1e-6
        assert sent_tokens <= tpm * (1 + when / 60) + 1e-6
    await starts.finish()


async def test_a_caller_cancelled_while_waiting_takes_nothing_and_lets_the_next_one_through(
    vt: VirtualTime,
) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(1, UNLIMITED)})
    starts = Starts(limiter, vt)
    starts.call("first")
    gives_up = starts.call("gives up")
    starts.call("patient")
    await vt.advance(10)
    assert limiter.snapshot()["m"]["waiting"] == 2

    gives_up.cancel()
    await vt.advance(100)

    assert starts.log == [("first", 0), ("patient", 60)]
    assert limiter.snapshot()["m"]["waiting"] == 0
    await asyncio.gather(*starts.tasks, return_exceptions=True)


async def test_the_snapshot_reports_levels_pause_and_queue_for_metrics(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(60, 6000), "idle": ModelLimits(10, UNLIMITED)})
    starts = Starts(limiter, vt)
    limiter.back_off("m", 30)
    starts.call("waiting", tokens=100)
    await vt.advance(10)

    snapshot = limiter.snapshot()

    assert snapshot == {
        "m": {"requests": 60, "tokens": 6000, "paused_for": 20, "waiting": 1},
        "idle": {"requests": 10, "tokens": math.inf, "paused_for": 0, "waiting": 0},
    }
    await vt.advance(20)  # the pause ends at t=30 and the caller takes its share
    assert starts.log == [("waiting", 30)]
    assert limiter.snapshot()["m"] == {"requests": 59, "tokens": 5900, "paused_for": 0, "waiting": 0}
    await starts.finish()


def test_limits_come_from_the_json_of_one_environment_variable() -> None:
    limiter = RateLimiter.from_config('{"gpt-4o-mini": {"rpm": 500, "tpm": 200000}, "*": {"rpm": 60}}')

    assert limiter.snapshot()["gpt-4o-mini"] == {
        "requests": 500,
        "tokens": 200000,
        "paused_for": 0,
        "waiting": 0,
    }
    assert RateLimiter.from_config({}).snapshot() == {}


@pytest.mark.parametrize(
    "config",
    [
        "[]",
        '{"m": 500}',
        '{"m": {"rmp": 500}}',
        '{"m": {"rpm": 0}}',
        '{"m": {"tpm": -1}}',
        '{"m": {"rpm": "500"}}',
        '{"m": {"rpm": true}}',
        "not json",
    ],
)
def test_a_malformed_limits_configuration_is_a_value_error(config: str) -> None:
    with pytest.raises(ValueError):
        RateLimiter.from_config(config)


async def test_nonsense_arguments_are_refused_rather_than_silently_misbehaving(vt: VirtualTime) -> None:
    limiter = limiter_for(vt, {"m": ModelLimits(1, 1)})

    with pytest.raises(ValueError):
        ModelLimits(math.nan, 1)
    with pytest.raises(ValueError):
        await limiter.acquire("m", tokens=-1)
    with pytest.raises(ValueError):
        limiter.settle("m", estimated=-1, actual=0)
    with pytest.raises(ValueError):
        limiter.back_off("m", -1)
    with pytest.raises(ValueError):
        limiter.back_off("m", math.inf)


async def test_on_the_real_clock_a_drained_bucket_makes_the_next_caller_wait() -> None:
    limiter = RateLimiter({"m": ModelLimits(1000, 600)})  # 10 tokens a second
    await limiter.acquire("m", tokens=600)

    started = time.monotonic()
    await limiter.acquire("m", tokens=2)  # 0.2 s of refill

    assert time.monotonic() - started >= 0.15


class StubCompleter:
    """A ChatCompleter that answers from a script: a completion, or an error to raise."""

    def __init__(self, outcome: Completion | LlmError) -> None:
        self.outcome = outcome

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        user: str | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.2,
    ) -> Completion:
        if isinstance(self.outcome, LlmError):
            raise self.outcome
        return self.outcome


def documented_example() -> dict[str, Any]:
    [example] = re.findall(r"^```python\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.DOTALL | re.M)
    namespace: dict[str, Any] = {}
    exec(compile(example, str(DOC), "exec"), namespace)
    return namespace


async def test_the_documented_wiring_settles_with_the_reported_usage(vt: VirtualTime) -> None:
    example = documented_example()
    limiter = limiter_for(vt, {"gpt-test": ModelLimits(100, 10_000)})
    answer = Completion("Why?", "gpt-test-2024", prompt_tokens=40, completion_tokens=10, latency_ms=5.0)
    messages = [{"role": "user", "content": "x" * 400}]

    completion = await example["limited_complete"](
        limiter, StubCompleter(answer), "gpt-test", messages, max_tokens=300
    )

    assert completion is answer
    assert limiter.snapshot()["gpt-test"]["tokens"] == 10_000 - 50
    assert limiter.snapshot()["gpt-test"]["requests"] == 99


async def test_the_documented_wiring_pauses_the_model_on_a_429(vt: VirtualTime) -> None:
    example = documented_example()
    limiter = limiter_for(vt, {"gpt-test": ModelLimits(100, 10_000)})
    refused = LlmError("HTTP 429 after 4 attempt(s)", status=429, attempts=4)

    with pytest.raises(LlmError):
        await example["limited_complete"](limiter, StubCompleter(refused), "gpt-test", [])

    assert limiter.snapshot()["gpt-test"]["paused_for"] == example["PAUSE_AFTER_429_S"]
