"""``Idempotency-Key``: a retried POST publishes once.

Within one API process the first request's response is kept and replayed for
retries with the same key and body (concurrent retries wait for the first); a
failed request is not kept, so its retry really retries. Across processes the
event id is derived from the key, so a retry that reaches another replica
yields the same event and task ids, which the workers process idempotently.

The cache is bounded in entries and in bytes (``FEYNMAN_IDEMPOTENCY_MAX_BYTES``),
oldest dropped first: a ``/chat`` reply carries up to its whole short-term
memory, so ten thousand of them could be gigabytes. A response dropped early only
means a late retry publishes again, with the same derived event id.
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
from pydantic import BaseModel

from foundation.errors import FeynmanError
from schemas.envelope import new_event_id

T = TypeVar("T")

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_NAMESPACE = uuid.UUID("0b6c2a1e-5f0a-4a8e-9d55-2f3c1b7a9e42")


class IdempotencyError(FeynmanError):
    """The key is malformed, or reused with a different request."""


# What an entry costs besides its key and response: the future, the dataclass, the dict slot.
ENTRY_OVERHEAD_BYTES = 512
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class _Entry:
    fingerprint: str
    future: asyncio.Future[Any]
    expires: float
    size: int


def fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise IdempotencyError("Idempotency-Key must be 1-200 printable ASCII characters without spaces")
    return key


def response_bytes(response: object) -> int:
    """About what a remembered response occupies: its JSON size for a model, its repr's otherwise."""
    if isinstance(response, BaseModel):
        return len(response.model_dump_json())
    return len(repr(response))


def event_id_for(scope: str, key: str) -> str:
    """The event id a request with this key always gets."""
    return str(uuid.uuid5(_NAMESPACE, f"{scope}\n{key}"))


class IdempotencyCache:
    def __init__(
        self, capacity: int = 10_000, ttl_s: float = 24 * 3600, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self._capacity = capacity
        self._ttl_s = ttl_s
        self._max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        # The sum of the held entries' sizes.
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def run(self, scope: str, key: str, body_fingerprint: str, make: Callable[[], Awaitable[T]]) -> T:
        """The response for ``(scope, key)``: made once, replayed afterwards."""
        now = time.monotonic()
        entry = self._entries.get((scope, key))
        if entry is not None and entry.expires < now:
            self._drop((scope, key), entry)
            entry = None
        if entry is not None:
            if entry.fingerprint != body_fingerprint:
                raise IdempotencyError("Idempotency-Key was already used with a different request body")
            result: T = await asyncio.shield(entry.future)
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        entry = _Entry(body_fingerprint, future, now + self._ttl_s, 0)
        self._entries[(scope, key)] = entry
        self._resize(
            (scope, key), entry, ENTRY_OVERHEAD_BYTES + len(scope) + len(key) + len(body_fingerprint)
        )
        try:
            result = await make()
        except BaseException as exc:
            self._drop((scope, key), entry)
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        future.set_result(result)
        self._resize((scope, key), entry, entry.size + response_bytes(result))
        return result

    def _resize(self, key: tuple[str, str], entry: _Entry, size: int) -> None:
        """Set an entry's size (counted only while it is held), then drop the oldest entries
        until both bounds hold; an entry alone over the byte bound is not kept at all."""
        if self._entries.get(key) is entry:
            self.bytes += size - entry.size
        entry.size = size
        while self._entries and (len(self._entries) > self._capacity or self.bytes > self._max_bytes):
            _, oldest = self._entries.popitem(last=False)
            self.bytes -= oldest.size

    def _drop(self, key: tuple[str, str], entry: _Entry) -> None:
        """Forget ``entry`` if it is still the one held for ``key`` (a newer one may have replaced it)."""
        if self._entries.get(key) is entry:
            del self._entries[key]
            self.bytes -= entry.size


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
