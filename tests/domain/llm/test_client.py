"""The chat-completions client against a real HTTP server: success, retries, timeouts, keys."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from domain.llm.client import ChatCompletionsClient, retry_after_seconds
from domain.llm.errors import LlmError
from foundation.settings import Settings
from tests.domain.llm.conftest import TEST_KEY
from tests.fakes.openai_server import COMPLETION_WITHOUT_USAGE, FakeOpenAIServer, ScriptedResponse

Factory = Callable[..., ChatCompletionsClient]
HELLO = [{"role": "user", "content": "Explain entropy to me."}]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_a_successful_completion_returns_text_and_usage(
    openai_server: FakeOpenAIServer, llm_client: ChatCompletionsClient
) -> None:
    openai_server.reply(
        "Why does it only go up?", prompt_tokens=42, completion_tokens=9, model="gpt-test-2024"
    )

    completion = await llm_client.complete(HELLO, max_tokens=50, temperature=0.1, user="u-1")

    assert completion.text == "Why does it only go up?"
    assert (completion.prompt_tokens, completion.completion_tokens) == (42, 9)
    assert completion.model == "gpt-test-2024"
    assert completion.usage_missing is False
    assert completion.finish_reason == "stop"
    assert completion.attempts == 1
    assert completion.latency_ms > 0
    [request] = openai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.json == {
        "model": "gpt-test",
        "messages": HELLO,
        "temperature": 0.1,
        "max_tokens": 50,
        "user": "u-1",
    }


async def test_a_429_with_retry_after_waits_that_long_then_succeeds(
    openai_server: FakeOpenAIServer, llm_client: ChatCompletionsClient
) -> None:
    openai_server.fail(429, headers={"Retry-After": "1"})
    openai_server.reply("ok")

    started = time.monotonic()
    completion = await llm_client.complete(HELLO)
    waited = time.monotonic() - started

    assert completion.text == "ok"
    assert completion.attempts == 2
    # Lower bound only: a loaded machine may be slower, never faster than asked.
    assert waited >= 0.95
    first, second = openai_server.requests
    assert second.at - first.at >= 0.95


async def test_a_retry_after_longer_than_the_cap_waits_only_the_cap(
    openai_server: FakeOpenAIServer, llm_client_factory: Factory
) -> None:
    client = llm_client_factory(retry_after_cap_s=0.1)
    openai_server.fail(429, headers={"Retry-After": "3600"})
    openai_server.reply("ok")

    started = time.monotonic()
    assert (await client.complete(HELLO)).text == "ok"
    assert time.monotonic() - started < 2.0


async def test_two_503s_then_success_is_retried_to_success(
    openai_server: FakeOpenAIServer, llm_client: ChatCompletionsClient
) -> None:
    openai_server.fail(503, times=2)
    openai_server.reply("third time lucky")

    completion = await llm_client.complete(HELLO)

    assert completion.text == "third time lucky"
    assert completion.attempts == 3
    assert len(openai_server.requests) == 3


async def test_exhausting_retries_raises_llm_error_naming_the_status_and_attempts(
    openai_server: FakeOpenAIServer, llm_client_factory: Factory
) -> None:
    client = llm_client_factory(max_retries=2)
    openai_server.default = ScriptedResponse(status=502, body={"error": {"message": "bad gateway"}})

    with pytest.raises(LlmError) as caught:
        await client.complete(HELLO)

    assert caught.value.status == 502
    assert caught.value.attempts == 3
    assert caught.value.usage is None
    assert "HTTP 502" in str(caught.value) and "3 attempt" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert len(openai_server.requests) == 3


async def test_a_client_error_is_not_retried(
    openai_server: FakeOpenAIServer, llm_client: ChatCompletionsClient
) -> None:
    openai_server.fail(401)

    with pytest.raises(LlmError, match="HTTP 401 after 1 attempt") as caught:
        await llm_client.complete(HELLO)

    assert caught.value.attempts == 1
    assert len(openai_server.requests) == 1


async def test_a_server_slower_than_the_timeout_is_retried_then_fails(
    openai_server: FakeOpenAIServer, llm_client_factory: Factory
) -> None:
    client = llm_client_factory(timeout_s=0.2, max_retries=1)
    openai_server.stall(1.5, times=2)

    started = time.monotonic()
    with pytest.raises(LlmError, match="timed out") as caught:
        await client.complete(HELLO)

    assert caught.value.status is None
    assert caught.value.attempts == 2
    assert len(openai_server.requests) == 2
    assert time.monotonic() - started < 1.5  # per-attempt timeouts, not the server's delay


async def test_a_timeout_then_a_prompt_answer_succeeds(
    openai_server: FakeOpenAIServer, llm_client_factory: Factory
) -> None:
    client = llm_client_factory(timeout_s=0.2, max_retries=1)
    openai_server.stall(1.5)
    openai_server.reply("finally")

    assert (await client.complete(HELLO)).text == "finally"


async def test_a_refused_connection_is_retried_then_fails_without_a_status(
    llm_client_factory: Factory,
) -> None:
    client = llm_client_factory(base_url=f"http://127.0.0.1:{closed_port()}/v1", max_retries=1)

    with pytest.raises(LlmError, match="ConnectError") as caught:
        await client.complete(HELLO)

    assert caught.value.status is None
    assert caught.value.attempts == 2


async def test_the_bearer_key_is_sent_when_configured(
    openai_server: FakeOpenAIServer, llm_client: ChatCompletionsClient
) -> None:
    await llm_client.complete(HELLO)

    assert openai_server.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"


async def test_no_authorization_header_is_sent_without_a_key(
    openai_server: FakeOpenAIServer, llm_client_factory: Factory
) -> None:
    await llm_client_factory(api_key=None).complete(HELLO)

    assert "authorization" not in openai_server.requests[0].headers


async def test_the_key_appears_in_no_log_line_error_or_repr(
    openai_server: FakeOpenAIServer, llm_client_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    client = llm_client_factory(max_retries=1)
    openai_server.default = ScriptedResponse(
        status=500, body={"error": {"message": f"upstream rejected key {TEST_KEY}"}}
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(LlmError) as caught:
        await client.complete(HELLO)

    assert caplog.records, "expected the retry to be logged"
    assert TEST_KEY not in caplog.text
    assert TEST_KEY not in str(caught.value)
    assert TEST_KEY not in repr(client)


async def test_a_response_without_usage_reports_zero_tokens_and_says_so(
    openai_server: FakeOpenAIServer, llm_client: ChatCompletionsClient
) -> None:
    openai_server.enqueue(ScriptedResponse(content="fine", body=COMPLETION_WITHOUT_USAGE))

    completion = await llm_client.complete(HELLO)

    assert completion.text == "fine"
    assert (completion.prompt_tokens, completion.completion_tokens) == (0, 0)
    assert completion.usage_missing is True


async def test_a_response_without_choices_raises_llm_error_carrying_its_usage(
    openai_server: FakeOpenAIServer, llm_client: ChatCompletionsClient
) -> None:
    body = {"id": "x", "object": "chat.completion", "model": "gpt-test", "choices": []}
    body["usage"] = {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5}
    openai_server.enqueue(ScriptedResponse(body=body))

    with pytest.raises(LlmError, match="has no choices") as caught:
        await llm_client.complete(HELLO)

    assert caught.value.usage is not None
    assert caught.value.usage.prompt_tokens == 5
    assert len(openai_server.requests) == 1  # a malformed answer is not retried


async def test_a_body_that_is_not_json_raises_llm_error(
    openai_server: FakeOpenAIServer, llm_client: ChatCompletionsClient
) -> None:
    openai_server.enqueue(ScriptedResponse(body="<html>proxy login</html>"))

    with pytest.raises(LlmError, match="not JSON") as caught:
        await llm_client.complete(HELLO)

    assert caught.value.usage is None


def test_retry_after_is_read_as_seconds_or_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)

    assert retry_after_seconds({"Retry-After": "7"}, now=now) == 7.0
    assert retry_after_seconds({"Retry-After": "0.5"}, now=now) == 0.5
    assert retry_after_seconds({"Retry-After": "Wed, 01 Jan 2025 12:00:09 GMT"}, now=now) == 9.0
    assert retry_after_seconds({"Retry-After": "Wed, 01 Jan 2025 11:00:00 GMT"}, now=now) == 0.0
    assert retry_after_seconds({"retry-after-ms": "250", "Retry-After": "9"}, now=now) == 0.25
    assert retry_after_seconds({"Retry-After": "soon"}, now=now) is None
    assert retry_after_seconds({"Retry-After": "-3"}, now=now) is None
    assert retry_after_seconds({}, now=now) is None


async def test_from_settings_is_none_without_a_base_url_and_configured_with_one() -> None:
    assert ChatCompletionsClient.from_settings(Settings(llm_base_url=None)) is None

    settings = Settings(
        llm_base_url="http://llm.internal/v1/",
        llm_model="qwen2.5",
        llm_api_key=SecretStr("k"),
        llm_timeout_s=3.5,
        llm_max_retries=1,
    )
    client = ChatCompletionsClient.from_settings(settings)

    assert client is not None
    await client.aclose()
    assert (client.base_url, client.model, client.timeout_s, client.max_retries) == (
        "http://llm.internal/v1",
        "qwen2.5",
        3.5,
        1,
    )
