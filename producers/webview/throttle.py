"""A limit on failed logins per client address, so the login form is no key-guessing oracle.

Pure and in-process: each API replica counts its own clients, which is enough
to make guessing a 32-character key hopeless. The table of clients is bounded
(least recently failed forgotten first), so a flood of addresses costs a fixed
amount of memory; an address that fills the window is refused, valid key or not,
until its oldest failure leaves the window.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

FAILURES_PER_WINDOW = 10
WINDOW_S = 60.0
MAX_CLIENTS = 10_000


class LoginThrottle:
    def __init__(
        self,
        failures: int = FAILURES_PER_WINDOW,
        window_s: float = WINDOW_S,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        # Per client, the times of its failures within the window (at most ``failures`` of them).
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._clients)

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again, or None if it may try now."""
        times = self._recent(client)
        if times is None or len(times) < self.failures:
            return None
        return max(1, math.ceil(times[0] + self.window_s - self._clock()))

    def failed(self, client: str) -> None:
        """Count a failed attempt of ``client``."""
        times = self._recent(client)
        if times is None:
            times = self._clients[client] = deque(maxlen=self.failures)
        times.append(self._clock())
        self._clients.move_to_end(client)
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)

    def _recent(self, client: str) -> deque[float] | None:
        """The client's failures still in the window (a client with none left is forgotten)."""
        times = self._clients.get(client)
        if times is None:
            return None
        horizon = self._clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._clients[client]
            return None
        return times
