"""Failed logins per client address: a sliding window, a bounded table of clients."""

from __future__ import annotations

from producers.webview.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_tenth_failure_in_a_minute_closes_the_door_until_the_first_leaves_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(failures=10, window_s=60, clock=clock)
    for _ in range(10):
        assert throttle.retry_after("a") is None
        throttle.failed("a")
        clock.now += 1
    assert throttle.retry_after("a") == 50  # the first failure was at 1000, the window ends at 1060
    assert throttle.retry_after("b") is None
    clock.now = 1060.5
    assert throttle.retry_after("a") is None  # one failure left the window: one more try


def test_the_table_of_clients_is_bounded_and_forgets_the_quiet_ones() -> None:
    clock = Clock()
    throttle = LoginThrottle(failures=2, window_s=60, max_clients=100, clock=clock)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) == 100
    clock.now += 61
    assert throttle.retry_after("10.0.3.231") is None
    assert len(throttle) == 99  # a client whose failures all left the window is forgotten
