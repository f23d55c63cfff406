"""``Idempotency-Key``: a retried POST publishes once.

Within one API process the first request's response is kept and replayed for
retries with the same key and body (concurrent retries wait for the first); a
failed request is not kept, so its retry really retries. Across processes the
event id is derived from the key, so a retry that reaches another replica
yields the same event and task ids, which the workers process idempotently.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Header, Request

from foundation.errors import FeynmanError
from schemas.envelope import new_event_id

T = TypeVar("T")

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_NAMESPACE = uuid.UUID("0b6c2a1e-5f0a-4a8e-9d55-2f3c1b7a9e42")


class IdempotencyError(FeynmanError):
    """The key is malformed, or reused with a different request."""


@dataclass
class _Entry:
    fingerprint: str
    future: asyncio.Future[Any]
    expires: float


def fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise IdempotencyError("Idempotency-Key must be 1-200 printable ASCII characters without spaces")
    return key


def event_id_for(scope: str, key: str) -> str:
    """The event id a request with this key always gets."""
    return str(uuid.uuid5(_NAMESPACE, f"{scope}\n{key}"))


class IdempotencyCache:
    def __init__(self, capacity: int = 10_000, ttl_s: float = 24 * 3600) -> None:
        self._capacity = capacity
        self._ttl_s = ttl_s
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    async def run(self, scope: str, key: str, body_fingerprint: str, make: Callable[[], Awaitable[T]]) -> T:
        """The response for ``(scope, key)``: made once, replayed afterwards."""
        now = time.monotonic()
        entry = self._entries.get((scope, key))
        if entry is not None and entry.expires < now:
            del self._entries[(scope, key)]
            entry = None
        if entry is not None:
            if entry.fingerprint != body_fingerprint:
                raise IdempotencyError("Idempotency-Key was already used with a different request body")
            result: T = await asyncio.shield(entry.future)
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._entries[(scope, key)] = _Entry(body_fingerprint, future, now + self._ttl_s)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        try:
            result = await make()
        except BaseException as exc:
            self._entries.pop((scope, key), None)
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        future.set_result(result)
        return result


IDEMPOTENCY_KEY = Header(
    None,
    alias="Idempotency-Key",
    description="Makes a retried request publish once: same key and body, same response.",
)


async def idempotent(
    cache: IdempotencyCache,
    request: Request,
    route: str,
    key: str | None,
    make: Callable[[str], Awaitable[T]],
) -> T:
    """Run ``make(event_id)`` once per Idempotency-Key (or every time without one)."""
    if key is None:
        return await make(new_event_id())
    check_key(key)
    caller = request.headers.get("X-API-Key", "")
    scope = f"{route}|{hashlib.sha256(caller.encode()).hexdigest()[:16]}"
    body = fingerprint(await request.body())
    return await cache.run(scope, key, body, lambda: make(event_id_for(scope, key)))
