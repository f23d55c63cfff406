"""The costs handler on plain dicts: buckets per learner-day and model-hour, each usage counted once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.pricing import UnknownModelError, load_prices
from foundation.errors import PermanentTaskError
from schemas.envelope import Envelope, new_envelope
from schemas.events import ChatTurn, LlmUsage
from streams.costs import handle_costs
from tests.streams.handlers.support import context_for

LEARNER = "user:dana"
# 23:30 UTC on 1 March is already 2 March in Berlin: the day bucket is the learner's local day.
AT = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
PRICES = load_prices()


def _usage(
    model: str = "gpt-4o-mini", *, prompt: int = 1_000_000, completion: int = 1_000_000
) -> Envelope[Any]:
    usage = LlmUsage(
        model=model, prompt_tokens=prompt, completion_tokens=completion, latency_ms=10.0, user_id=LEARNER
    )
    return replace(new_envelope(usage), ts=AT)


async def _cost(envelope: Envelope[Any], days: dict[str, Any], hours: dict[str, Any]) -> str:
    return await handle_costs(
        envelope,
        context_for("costs", envelope.id),
        days=days,
        hours=hours,
        prices=PRICES,
        zone=ZoneInfo("Europe/Berlin"),
        day_retention=timedelta(days=30),
        hour_retention=timedelta(days=2),
    )


async def test_a_call_is_priced_into_the_learners_local_day_and_the_models_utc_hour() -> None:
    days: dict[str, Any] = {}
    hours: dict[str, Any] = {}
    envelope = _usage()

    ref = await _cost(envelope, days, hours)

    assert ref == f"cost_user_day/{LEARNER}/2025-03-02"
    day = days[LEARNER]["buckets"]["2025-03-02"]
    # gpt-4o-mini: 0.15 per million input tokens, 0.60 per million output tokens.
    assert (day["calls"], day["input_cost"], day["output_cost"], day["cost"]) == (1, "0.15", "0.6", "0.75")
    assert day["usage_ids"] == [envelope.id]
    assert datetime.fromisoformat(day["expires_at"]) == datetime(2025, 4, 2, tzinfo=ZoneInfo("Europe/Berlin"))
    hour = hours[LEARNER]["buckets"]["gpt-4o-mini@2025-03-01T23"]
    assert (hour["calls"], hour["cost"], hour["models"]) == (1, "0.75", {"gpt-4o-mini": 1})
    assert datetime.fromisoformat(hour["expires_at"]) == datetime(2025, 3, 4, 0, tzinfo=UTC)


async def test_a_redelivered_call_is_counted_once_and_another_call_adds_up() -> None:
    days: dict[str, Any] = {}
    hours: dict[str, Any] = {}
    first, other = _usage(), _usage("gpt-4o", prompt=1_000_000, completion=0)

    for envelope in (first, first, other):
        await _cost(envelope, days, hours)

    day = days[LEARNER]["buckets"]["2025-03-02"]
    assert (day["calls"], day["cost"], day["models"]) == (2, "3.25", {"gpt-4o-mini": 1, "gpt-4o": 1})
    assert set(hours[LEARNER]["buckets"]) == {"gpt-4o-mini@2025-03-01T23", "gpt-4o@2025-03-01T23"}
    assert hours[LEARNER]["buckets"]["gpt-4o-mini@2025-03-01T23"]["calls"] == 1


async def test_an_unknown_model_fails_the_task_and_writes_nothing() -> None:
    days: dict[str, Any] = {}
    hours: dict[str, Any] = {}

    with pytest.raises(UnknownModelError):
        await _cost(_usage("no-such-model"), days, hours)
    assert (days, hours) == ({}, {})


async def test_a_misrouted_event_is_a_permanent_error_and_writes_nothing() -> None:
    days: dict[str, Any] = {}
    hours: dict[str, Any] = {}
    envelope = new_envelope(
        ChatTurn(session_id="s", topic="Gravity", user_input="Things fall.", user_id=LEARNER)
    )

    with pytest.raises(PermanentTaskError, match=r"costs cannot handle chat\.turn"):
        await _cost(envelope, days, hours)
    assert (days, hours) == ({}, {})
