"""Settings refuse a malformed value at start-up, naming the variable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from foundation.settings import Settings


@pytest.mark.parametrize(
    "limits",
    [
        '{"m": 500}',
        '{"m": {"rmp": 500}}',
        '{"m": {"rpm": 0}}',
        '{"m": {"tpm": -1}}',
        '{"m": {"rpm": "500"}}',
        '{"m": {"rpm": true}}',
        "not json",
    ],
)
def test_a_malformed_llm_limits_variable_stops_start_up_naming_it(
    limits: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEYNMAN_LLM_LIMITS", limits)
    # Not JSON at all is pydantic-settings' own error; both name the variable's field.
    with pytest.raises((ValidationError, SettingsError)) as refused:
        Settings()
    assert "llm_limits" in str(refused.value)


def test_llm_limits_reach_the_rate_limiter_as_given_with_missing_figures_unlimited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FEYNMAN_LLM_LIMITS", '{"gpt-4o-mini": {"rpm": 500, "tpm": 200000}, "*": {"rpm": 60}}')
    limits = Settings().llm_limits
    assert {model: budget.as_config() for model, budget in limits.items()} == {
        "gpt-4o-mini": {"rpm": 500, "tpm": 200000},
        "*": {"rpm": 60},
    }


def test_llm_limits_survive_the_trip_to_a_child_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(llm_limits={"m": {"rpm": 5}})
    monkeypatch.setenv("FEYNMAN_LLM_LIMITS", settings.as_env()["FEYNMAN_LLM_LIMITS"])
    assert Settings().llm_limits["m"].as_config() == {"rpm": 5}
