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


LONG = "k" * 32


@pytest.mark.parametrize("variable", ["FEYNMAN_API_KEYS", "FEYNMAN_API_KEYS_WRITE", "FEYNMAN_API_KEYS_READ"])
def test_an_api_key_shorter_than_32_characters_stops_start_up_naming_its_variable(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, f'["{LONG}-{variable}", "{"x" * 31}"]')
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = str(refused.value)
    assert f"{variable}: 1 key(s) shorter than 32 characters" in message
    assert "x" * 31 not in message  # the key itself is never printed


def test_a_key_with_two_roles_stops_start_up() -> None:
    with pytest.raises(ValidationError, match="FEYNMAN_API_KEYS and FEYNMAN_API_KEYS_READ"):
        Settings(api_keys=[LONG], api_keys_read=[LONG])


def test_keys_of_every_role_survive_the_trip_to_a_child_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(api_keys=["a" * 32], api_keys_write=["w" * 32], api_keys_read=["r" * 40])
    env = settings.as_env()
    for name in ("FEYNMAN_API_KEYS", "FEYNMAN_API_KEYS_WRITE", "FEYNMAN_API_KEYS_READ"):
        monkeypatch.setenv(name, env[name])
    child = Settings()
    assert [k.get_secret_value() for k in child.api_keys] == ["a" * 32]
    assert [k.get_secret_value() for k in child.api_keys_write] == ["w" * 32]
    assert [k.get_secret_value() for k in child.api_keys_read] == ["r" * 40]
