"""The worker's LLM calls against a real OpenAI-compatible server on localhost: budgets, 429s, metering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from domain.llm.errors import LlmError
from domain.llm.usage import UsageRecord
from foundation.settings import Settings
from streams.worker_llm import PAUSE_AFTER_429_S, WorkerLlm
from tests.fakes.openai_server import FakeOpenAIServer, ScriptedResponse

MESSAGES = [{"role": "user", "content": "Gravity pulls masses together."}]


@pytest.fixture
async def worker_llm(
    openai_server: FakeOpenAIServer,
) -> AsyncIterator[Callable[..., tuple[WorkerLlm, list[UsageRecord]]]]:
    """A factory of WorkerLlm built from settings, as the worker builds it, metering into a list."""
    made: list[WorkerLlm] = []

    def make(**overrides: Any) -> tuple[WorkerLlm, list[UsageRecord]]:
        metered: list[UsageRecord] = []

        async def meter(record: UsageRecord) -> None:
            metered.append(record)

        fields: dict[str, Any] = {
            "llm_base_url": openai_server.base_url,
            "llm_model": "gpt-test",
            "llm_timeout_s": 5.0,
            **overrides,
        }
        llm = WorkerLlm.from_settings(Settings(**fields), meter)
        assert llm is not None
        made.append(llm)
        return llm, metered

    yield make
    for llm in made:
        await llm.aclose()


def test_without_a_base_url_the_worker_has_no_llm() -> None:
    async def meter(record: UsageRecord) -> None: ...

    assert WorkerLlm.from_settings(Settings(llm_base_url=None), meter) is None


async def test_a_retry_after_pauses_the_model_for_every_caller_not_only_the_refused_one(
    openai_server: FakeOpenAIServer, worker_llm: Callable[..., tuple[WorkerLlm, list[UsageRecord]]]
) -> None:
    llm, metered = worker_llm(llm_max_retries=2)
    openai_server.enqueue(ScriptedResponse(status=429, headers={"Retry-After": "1"}, body={"error": {}}))
    openai_server.reply("first", prompt_tokens=20, completion_tokens=5)
    openai_server.reply("second", prompt_tokens=30, completion_tokens=6)

    first = asyncio.create_task(
        llm.complete(MESSAGES, purpose="consolidation", max_tokens=50, session_id="s-1", user_id="u-1")
    )
    while not openai_server.requests:  # the refused request is in: start another caller now
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    paused_for = llm.limiter.snapshot()["gpt-test"]["paused_for"]
    second = await llm.complete(MESSAGES, purpose="consolidation", max_tokens=50, session_id="s-2")
    answers = [await first, second]

    refused, *served = openai_server.requests
    assert 0.5 < paused_for <= 1.0
    # Neither the refused caller's retry nor the other caller went before the provider's second.
    assert all(r.at - refused.at >= 0.95 for r in served)
    assert sorted(a.text for a in answers) == ["first", "second"]
    # Only answered calls are metered, with the provider's counts and the caller's purpose.
    assert sorted((r.prompt_tokens, r.completion_tokens) for r in metered) == [(20, 5), (30, 6)]
    assert {r.purpose for r in metered} == {"consolidation"}
    assert {r.session_id for r in metered} == {"s-1", "s-2"}


async def test_the_reported_usage_is_charged_and_the_next_call_waits_for_the_budget(
    openai_server: FakeOpenAIServer, worker_llm: Callable[..., tuple[WorkerLlm, list[UsageRecord]]]
) -> None:
    # 6000 tokens a minute = 100 a second; the first call's estimate is small, its real usage the lot.
    llm, _ = worker_llm(llm_limits={"gpt-test": {"rpm": 1000, "tpm": 6000}})
    openai_server.reply("long", prompt_tokens=5900, completion_tokens=100)
    openai_server.reply("short", prompt_tokens=10, completion_tokens=10)

    await llm.complete(MESSAGES, purpose="consolidation", max_tokens=50)
    left = llm.limiter.snapshot()["gpt-test"]["tokens"]
    started = time.monotonic()
    await llm.complete(MESSAGES, purpose="consolidation", max_tokens=50)

    assert left < 20  # the provider's 6000 tokens were charged, not the estimate of about 60
    assert time.monotonic() - started >= 0.4  # about 60 tokens at 100 a second


async def test_a_429_without_retry_after_still_pauses_the_model_and_meters_nothing(
    openai_server: FakeOpenAIServer, worker_llm: Callable[..., tuple[WorkerLlm, list[UsageRecord]]]
) -> None:
    llm, metered = worker_llm(llm_max_retries=0)
    openai_server.fail(429)

    with pytest.raises(LlmError) as refused:
        await llm.complete(MESSAGES, purpose="consolidation", max_tokens=50)

    assert refused.value.status == 429 and refused.value.transient
    assert llm.limiter.snapshot()["gpt-test"]["paused_for"] == pytest.approx(PAUSE_AFTER_429_S, abs=0.5)
    assert metered == []


async def test_a_malformed_answer_is_metered_and_not_transient(
    openai_server: FakeOpenAIServer, worker_llm: Callable[..., tuple[WorkerLlm, list[UsageRecord]]]
) -> None:
    llm, metered = worker_llm()
    openai_server.enqueue(
        ScriptedResponse(
            body={"model": "gpt-test", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 0}}
        )
    )

    with pytest.raises(LlmError) as malformed:
        await llm.complete(MESSAGES, purpose="consolidation", max_tokens=50, user_id="u-9")

    assert not malformed.value.transient
    assert [(r.prompt_tokens, r.user_id) for r in metered] == [(9, "u-9")]
