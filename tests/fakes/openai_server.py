"""A small real HTTP server speaking the OpenAI chat-completions API, scriptable per test.

Real because the client's behaviour lives in the transport: timeouts, retries,
connection reuse after an abandoned request, headers on the wire. It is
uvicorn on a raw ASGI app, in a background thread with its own event loop, on
``127.0.0.1`` and a free port — the way httpx tests itself — so a delayed
response never blocks the test's loop.

Script it with :meth:`FakeOpenAIServer.enqueue` (or the ``reply``/``fail``/
``stall`` shortcuts): each request to ``POST /v1/chat/completions`` takes the
next scripted response; when the queue is empty the ``default`` answers.
Every request is recorded (headers lower-cased, JSON body) in ``requests``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn

COMPLETIONS_PATH = "/v1/chat/completions"

# Sentinels for ScriptedResponse.body: build the usual completion from ``content``.
COMPLETION = "completion"
# ... or the same without its ``usage`` object (servers that omit it).
COMPLETION_WITHOUT_USAGE = "completion-without-usage"


@dataclass(frozen=True)
class ScriptedResponse:
    """One response: a status, extra headers, a body, optionally after a delay.

    ``body`` is ``COMPLETION`` (a chat.completion around ``content``), a dict or
    list (sent as JSON), or ``str``/``bytes`` (sent as is). During ``delay_s``
    the server watches the connection and drops the response if the client
    gave up, as a real server's handler would be cancelled.
    """

    status: int = 200
    content: str = "Hello from the fake server."
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = COMPLETION
    delay_s: float = 0.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    model: str | None = None


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    raw: bytes
    at: float  # time.monotonic() on arrival


def completion_body(
    content: str, *, model: str, prompt_tokens: int = 11, completion_tokens: int = 7, usage: bool = True
) -> dict[str, Any]:
    """A ``chat.completion`` object as OpenAI sends it."""
    body: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    if usage:
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return body


class FakeOpenAIServer:
    """The server; ``start()``/``stop()`` or use as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[ScriptedResponse] = deque()
        self._requests: list[ReceivedRequest] = []
        self.default = ScriptedResponse()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- scripting -------------------------------------------------------------

    def enqueue(self, *responses: ScriptedResponse) -> None:
        with self._lock:
            self._queue.extend(responses)

    def reply(self, content: str, **fields: Any) -> None:
        """Queue one successful completion saying ``content``."""
        self.enqueue(ScriptedResponse(content=content, **fields))

    def fail(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Queue ``times`` error responses with an OpenAI-shaped error body."""
        body = {"error": {"message": f"scripted failure {status}", "type": "server_error", "code": None}}
        self.enqueue(*[ScriptedResponse(status=status, headers=headers or {}, body=body)] * times)

    def stall(self, delay_s: float, *, times: int = 1) -> None:
        """Queue ``times`` completions that arrive only after ``delay_s`` (to trip client timeouts)."""
        self.enqueue(*[ScriptedResponse(delay_s=delay_s)] * times)

    def reset(self) -> None:
        """Forget the script, the records and any changed default: a clean server for the next test."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self.default = ScriptedResponse()

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """Scripted responses not yet served (a test can assert its script was used up)."""
        with self._lock:
            return len(self._queue)

    @property
    def base_url(self) -> str:
        """What ``FEYNMAN_LLM_BASE_URL`` would be: the API root, ``/v1`` included."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle -------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> FakeOpenAIServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            lifespan="off",
            log_level="warning",
            access_log=False,
            http="h11",
            loop="asyncio",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        server = self._server

        def run() -> None:
            asyncio.run(server.serve(sockets=[sock]))

        self._thread = threading.Thread(target=run, name="fake-openai-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the ASGI app ----------------------------------------------------------

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            raw += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        method, path = scope["method"], scope["path"]
        if path != COMPLETIONS_PATH:
            await _send(send, 404, {"error": {"message": f"no route {path}"}})
            return
        if method != "POST":
            await _send(send, 405, {"error": {"message": "POST only"}})
            return
        with self._lock:
            self._requests.append(ReceivedRequest(method, path, headers, parsed, raw, time.monotonic()))
            scripted = self._queue.popleft() if self._queue else self.default
        if scripted.delay_s > 0 and await _client_left_within(receive, scripted.delay_s):
            return
        model = scripted.model or (parsed.get("model") if isinstance(parsed, dict) else None) or "fake-model"
        body: Any = scripted.body
        if body in (COMPLETION, COMPLETION_WITHOUT_USAGE):
            body = completion_body(
                scripted.content,
                model=model,
                prompt_tokens=scripted.prompt_tokens,
                completion_tokens=scripted.completion_tokens,
                usage=body == COMPLETION,
            )
        await _send(send, scripted.status, body, scripted.headers)


async def _client_left_within(receive: Any, seconds: float) -> bool:
    """Wait ``seconds`` unless the client disconnects first (then True: do not answer)."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                if (await receive())["type"] == "http.disconnect":
                    return True
    except TimeoutError:
        return False


async def _send(send: Any, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    if isinstance(body, bytes):
        payload, content_type = body, "application/octet-stream"
    elif isinstance(body, str):
        payload, content_type = body.encode("utf-8"), "text/plain; charset=utf-8"
    else:
        # ensure_ascii=False: the bytes on the wire are real UTF-8, as most servers send them.
        payload, content_type = json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json"
    raw_headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
