"""An async client of the OpenAI-compatible ``POST {base_url}/chat/completions`` API.

Optional by design: the local tutor answers when no backend is configured or
when this client fails, so the client's job is to fail *cleanly* — every
failure becomes one :class:`~domain.llm.errors.LlmError` with a one-line
reason — and to retry only what is worth retrying:

- ``408``, ``429`` and ``5xx`` responses, and network failures (connect/read/write
  timeouts, refused or dropped connections, a whole attempt overrunning
  ``timeout_s``), up to ``max_retries`` retries after the first attempt;
- waiting what ``Retry-After`` asks (delta-seconds or HTTP-date, RFC 9110
  §10.2.3; OpenAI's ``retry-after-ms`` first), capped at ``retry_after_cap_s``
  so a provider cannot park a learner's turn for minutes;
- otherwise exponential backoff with "equal jitter" (half fixed, half random),
  so clients that failed together do not retry together.

A caller that shares a rate limiter with other callers of the same model passes
``on_retry_after``: it hears every ``Retry-After`` at once, so the limiter can
pause the whole model at the *first* 429 instead of letting every other task
run into the same refusal.

Any other status (``400``, ``401``, ``404`` ...) is a configuration or request
error that a retry cannot fix: it fails at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from pydantic import SecretStr

from domain.llm.errors import LlmError

if TYPE_CHECKING:
    from foundation.settings import Settings

log = logging.getLogger(__name__)

# Statuses a later attempt may get past: overload, rate limit, request timeout.
RETRY_STATUSES = frozenset({408, 429})
# Network failures after which the same request may well succeed. Not the whole
# TransportError family: UnsupportedProtocol or a ProxyError are configuration.
RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
_SNIPPET_CHARS = 200


@dataclass(frozen=True, slots=True)
class Usage:
    """What one call cost, as the provider reported it.

    ``usage_missing`` is true when the response carried no (valid) ``usage``
    object — some OpenAI-compatible servers omit it. The tokens are then ``0``
    rather than a guess: a cost report that undercounts *and says so* is easier
    to correct than one silently padded with a tokenizer-less estimate.
    """

    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    usage_missing: bool = False


@dataclass(frozen=True, slots=True)
class Completion:
    """The assistant's text and its metering.

    ``latency_ms`` is the wall time of the whole :meth:`ChatCompletionsClient.complete`
    call, retries and waits included: it is what the learner waited.
    ``model`` is the model the provider says answered (often a dated snapshot of
    the requested one), which is what pricing needs.
    """

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    usage_missing: bool = False
    finish_reason: str | None = None
    attempts: int = 1

    @property
    def usage(self) -> Usage:
        return Usage(
            self.model, self.prompt_tokens, self.completion_tokens, self.latency_ms, self.usage_missing
        )


class ChatCompleter(Protocol):
    """What the questioner needs from a backend; lets other backends or fakes stand in."""

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        user: str | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.2,
    ) -> Completion: ...


class ChatCompletionsClient:
    """One backend (base URL, model, key) with its connection pool; close with :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: SecretStr | None = None,
        *,
        timeout_s: float = 20.0,
        max_retries: int = 3,
        retry_after_cap_s: float = 30.0,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 8.0,
        on_retry_after: Callable[[float], None] | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.retry_after_cap_s = retry_after_cap_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.on_retry_after = on_retry_after
        self._api_key = api_key
        self._url = f"{self.base_url}/chat/completions"
        # Userinfo in a base URL is a credential too; keep it out of messages and logs.
        self._display_url = str(httpx.URL(self._url).copy_with(username=None, password=None))
        headers = {"Accept": "application/json"}
        if api_key is not None and api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {api_key.get_secret_value()}"
        self._http = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(timeout_s))

    @classmethod
    def from_settings(
        cls, settings: Settings, *, on_retry_after: Callable[[float], None] | None = None
    ) -> ChatCompletionsClient | None:
        """The configured backend, or ``None`` when ``FEYNMAN_LLM_BASE_URL`` is unset (local tutor only)."""
        if not settings.llm_base_url:
            return None
        return cls(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            on_retry_after=on_retry_after,
        )

    def __repr__(self) -> str:
        keyed = "with key" if self._api_key is not None else "no key"
        return f"ChatCompletionsClient({self._display_url!r}, model={self.model!r}, {keyed})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ChatCompletionsClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        user: str | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.2,
    ) -> Completion:
        """One chat completion, retried per the module's policy; :class:`LlmError` when none comes.

        ``user`` is OpenAI's end-user field (abuse monitoring); pass a pseudonym,
        not a raw user id. ``max_tokens`` is sent as ``max_tokens``, the field
        every OpenAI-compatible server understands.
        """
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if user is not None:
            body["user"] = user
        started = time.monotonic()
        attempts_allowed = self.max_retries + 1
        attempt = 0
        while True:
            attempt += 1
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await self._http.post(self._url, json=body)
            except (TimeoutError, *RETRY_EXCEPTIONS) as exc:
                what = _describe_transport_error(exc, self.timeout_s)
                if attempt >= attempts_allowed:
                    raise LlmError(
                        f"LLM request to {self._display_url} failed: {what} after {attempt} attempt(s)",
                        attempts=attempt,
                    ) from exc
                delay = self._backoff(attempt)
                log.warning(
                    "LLM attempt %d/%d: %s; retrying in %.2fs", attempt, attempts_allowed, what, delay
                )
                await asyncio.sleep(delay)
                continue
            except httpx.HTTPError as exc:
                reason = _describe_transport_error(exc, self.timeout_s)
                raise LlmError(
                    f"LLM request to {self._display_url} failed: {reason}", attempts=attempt
                ) from exc

            status = response.status_code
            if 200 <= status < 300:
                latency_ms = (time.monotonic() - started) * 1000.0
                return self._parse(response, latency_ms=latency_ms, attempts=attempt)
            retryable = status in RETRY_STATUSES or status >= 500
            asked = retry_after_seconds(response.headers) if retryable else None
            if asked is not None and self.on_retry_after is not None:
                self.on_retry_after(asked)
            if not retryable or attempt >= attempts_allowed:
                raise LlmError(
                    f"LLM request to {self._display_url} failed: HTTP {status} after {attempt} attempt(s)"
                    f"{self._snippet(response)}",
                    status=status,
                    attempts=attempt,
                    retry_after=asked,
                )
            delay = min(asked, self.retry_after_cap_s) if asked is not None else self._backoff(attempt)
            log.warning(
                "LLM attempt %d/%d: HTTP %d; retrying in %.2fs%s",
                attempt,
                attempts_allowed,
                status,
                delay,
                " (Retry-After)" if asked is not None else "",
            )
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: at least half the step, so retries never hammer."""
        step = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return step / 2 + random.uniform(0, step / 2)

    def _snippet(self, response: httpx.Response) -> str:
        """The provider's own error message, on one line, short, without our key in it."""
        try:
            payload = response.json()
            text = payload["error"]["message"] if isinstance(payload.get("error"), dict) else response.text
        except (ValueError, KeyError, TypeError, AttributeError):
            text = response.text
        text = " ".join(str(text).split())
        if self._api_key is not None and self._api_key.get_secret_value():
            text = text.replace(self._api_key.get_secret_value(), "***")
        if len(text) > _SNIPPET_CHARS:
            text = text[: _SNIPPET_CHARS - 1] + "…"
        return f": {text}" if text else ""

    def _parse(self, response: httpx.Response, *, latency_ms: float, attempts: int) -> Completion:
        """The completion in a 2xx body; :class:`LlmError` (with usage, if any) when it has no text."""
        where = f"LLM response from {self._display_url}"
        try:
            payload = response.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise LlmError(
                f"{where} is not JSON (HTTP {response.status_code})",
                status=response.status_code,
                attempts=attempts,
            ) from exc
        if not isinstance(payload, dict):
            raise LlmError(f"{where} is not a JSON object", status=response.status_code, attempts=attempts)
        model = payload.get("model") if isinstance(payload.get("model"), str) else None
        usage = _usage(payload.get("usage"), model or self.model, latency_ms)
        choices = payload.get("choices")
        first = choices[0] if isinstance(choices, list) and choices else None
        message = first.get("message") if isinstance(first, dict) else None
        text = message.get("content") if isinstance(message, dict) else None
        if not isinstance(text, str):
            reason = "has no choices" if first is None else "has no message content"
            raise LlmError(f"{where} {reason}", status=response.status_code, attempts=attempts, usage=usage)
        finish = first.get("finish_reason") if isinstance(first, dict) else None
        return Completion(
            text=text,
            model=usage.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            latency_ms=latency_ms,
            usage_missing=usage.usage_missing,
            finish_reason=finish if isinstance(finish, str) else None,
            attempts=attempts,
        )


def _usage(raw: object, model: str, latency_ms: float) -> Usage:
    def count(name: str) -> int | None:
        value = raw.get(name) if isinstance(raw, dict) else None
        # bool is an int subclass; a server sending true is not reporting a count.
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    prompt, completion = count("prompt_tokens"), count("completion_tokens")
    return Usage(
        model=model,
        prompt_tokens=prompt or 0,
        completion_tokens=completion or 0,
        latency_ms=latency_ms,
        usage_missing=prompt is None or completion is None,
    )


def _describe_transport_error(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timed out ({type(exc).__name__}, timeout {timeout_s:g}s)"
    detail = " ".join(str(exc).split())  # one line, whatever the transport put in the message
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def retry_after_seconds(
    headers: httpx.Headers | dict[str, str], *, now: datetime | None = None
) -> float | None:
    """How long the server asked us to wait, in seconds; ``None`` when it did not say (or said nonsense).

    ``retry-after-ms`` (OpenAI, Azure) is more precise and wins; ``Retry-After``
    is delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Fractional seconds are
    accepted although the RFC says integer, because some proxies send them.
    A date in the past means "now" (0).
    """
    headers = httpx.Headers(headers)
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = -1.0
        if math.isfinite(value) and value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 850 / asctime forms carry no zone; HTTP-dates are GMT.
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
