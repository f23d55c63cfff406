"""Clients aimed at the fake OpenAI server (tests/conftest.py) with small retry caps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from domain.llm.client import ChatCompletionsClient
from tests.fakes.openai_server import FakeOpenAIServer

TEST_KEY = "sk-test-0123456789-secret"


@pytest.fixture
async def llm_client_factory(
    openai_server: FakeOpenAIServer,
) -> AsyncIterator[Callable[..., ChatCompletionsClient]]:
    """Clients of the fake server: fast backoff and short timeouts unless a test says otherwise."""
    made: list[ChatCompletionsClient] = []

    def make(**overrides: Any) -> ChatCompletionsClient:
        fields: dict[str, Any] = {
            "base_url": openai_server.base_url,
            "model": "gpt-test",
            "api_key": SecretStr(TEST_KEY),
            "timeout_s": 2.0,
            "max_retries": 2,
            "retry_after_cap_s": 2.0,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.05,
            **overrides,
        }
        client = ChatCompletionsClient(**fields)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def llm_client(llm_client_factory: Callable[..., ChatCompletionsClient]) -> ChatCompletionsClient:
    return llm_client_factory()
