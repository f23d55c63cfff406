"""Reads task status from the workers' web routes.

A worker answers for the tasks of the partitions it holds (the API's read
model answers first, see ``status_lookup``). The API keeps, besides, the ids it
accepted in the last minutes, so a task Kafka acknowledged reads ``queued``
on this replica even before its read model has read the event back.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from foundation.errors import FeynmanError
from producers.refusals import RequestRefusedError
from schemas.events import TaskStatusChanged
from schemas.status import fold


class StatusUnavailableError(FeynmanError):
    """No worker answered a status lookup."""


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    """The worker's answer to ``/health/``, said twice.

    ``public`` names what failed and nothing else, for the unauthenticated ``/readyz``:
    where the worker listens, or what its body says about the broker, is a map of the
    inside for anyone who asks. ``detail`` adds where, for logs and the authenticated view.
    """

    public: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.public == "ok"


class AcceptedTasks:
    """A bounded memory of task ids this API process saw Kafka accept, indexed by session.

    The index makes a session's lookup cost that session's tasks, not every
    task remembered: ``GET /sessions/{id}/tasks`` is a request anyone with a
    read key may repeat.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._records: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._by_session: dict[str, dict[str, None]] = {}

    def add(self, queued: TaskStatusChanged) -> None:
        """Remember a task whose queued status Kafka acknowledged, as the status fold records it."""
        task_id = queued.task_id
        self._forget(task_id)
        record = self._records[task_id] = fold(None, queued) or {}
        self._by_session.setdefault(record.get("session_id") or "", {})[task_id] = None
        while len(self._records) > self._capacity:
            self._forget(next(iter(self._records)))

    def _forget(self, task_id: str) -> None:
        record = self._records.pop(task_id, None)
        if record is None:
            return
        session = record.get("session_id") or ""
        tasks = self._by_session.get(session, {})
        tasks.pop(task_id, None)
        if not tasks:
            self._by_session.pop(session, None)

    def get(self, task_id: str) -> dict[str, Any] | None:
        return self._records.get(task_id)

    def for_session(self, session_id: str) -> list[dict[str, Any]]:
        """Tasks of the session accepted here and still remembered (in the order accepted)."""
        return [self._records[task_id] for task_id in self._by_session.get(session_id, ())]

    def __len__(self) -> int:
        return len(self._records)

    @property
    def sessions(self) -> int:
        """How many sessions the index holds (it never outgrows the tasks remembered)."""
        return len(self._by_session)


class StatusClient:
    """HTTP client of the worker's ``/tasks/{task_id}/`` route."""

    def __init__(self, worker_url: str, *, key: SecretStr | None = None, timeout_s: float = 5.0) -> None:
        # The worker key (FEYNMAN_WORKER_API_KEY), which the worker's routes want once it is set.
        headers = {"X-API-Key": key.get_secret_value()} if key is not None else {}
        self._client = httpx.AsyncClient(base_url=worker_url.rstrip("/"), timeout=timeout_s, headers=headers)

    async def close(self) -> None:
        await self._client.aclose()

    async def get(self, task_id: str) -> dict[str, Any] | None:
        """The task's folded status, or ``None`` when no worker knows it."""
        return await self.lookup(f"/tasks/{quote(task_id, safe='')}/")

    async def lookup(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        """A worker route's JSON answer, or ``None`` when it answers 404 (nothing stored for that key).

        ``path`` is a worker route such as ``/learners/u1/memory/``; the worker forwards
        keyed lookups to the worker that owns the key's partition.
        """
        try:
            response = await self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise StatusUnavailableError(f"no worker answered at {self._client.base_url}: {exc!r}") from exc
        if response.status_code == 404:
            return None
        if response.status_code == 400:
            raise _refused(response, path)
        if response.status_code != 200:
            raise StatusUnavailableError(f"worker answered {response.status_code} for {path}")
        body: dict[str, Any] = response.json()
        return body

    async def worker_health(self) -> WorkerHealth:
        """``ok``, or why the worker is not ready."""
        try:
            response = await self._client.get("/health/", timeout=2.0)
        except httpx.HTTPError as exc:
            failure = type(exc).__name__
            return WorkerHealth(
                f"no worker answers ({failure})", f"no worker answers at {self._client.base_url} ({failure})"
            )
        if response.status_code == 200:
            return WorkerHealth("ok", "ok")
        return WorkerHealth(
            f"worker not ready ({_health_status(response)})", f"worker not ready: {response.text[:200]}"
        )


def _health_status(response: httpx.Response) -> str:
    """The worker's own one-word status (``starting``, ``stalled``), or its HTTP code."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = body.get("status") if isinstance(body, dict) else None
    if isinstance(status, str) and status.isalpha() and len(status) <= 32:
        return status
    return f"HTTP {response.status_code}"


def _refused(response: httpx.Response, path: str) -> RequestRefusedError:
    """A worker's 400 refused the lookup's parameters: the request's fault, not an outage, so a 422
    with the worker's own reason when its body has one (worker routes answer ``detail`` and ``reason``)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail")
    reason = body.get("reason")
    return RequestRefusedError(
        422,
        reason if isinstance(reason, str) else "invalid_request",
        detail if isinstance(detail, str) else f"the worker refused {path}",
    )
