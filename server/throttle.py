"""Password guessing is slowed per (user name, client address): after MAX_FAILURES wrong
passwords within WINDOW_S, further attempts are refused with 429 until the oldest
failure leaves the window. Kept in memory per server process: it bounds an online
attack at MAX_FAILURES * processes per window, without a write per login."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from server.errors import api_error

MAX_FAILURES = 10
WINDOW_S = 300.0
MAX_KEYS = 100_000  # memory bound under a spray of made-up user names


class LoginThrottle:
    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str, address: str) -> None:
        """Raise 429 when this user name from this address has failed too often."""
        key = (username.casefold(), address)
        with self._lock:
            q = self._failures.get(key)
            if q is None:
                return
            now = self.clock()
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.max_failures:
                wait = int(self.window_s - (now - q[0])) + 1
                exc = api_error(429, "too_many_attempts",
                                f"Too many wrong passwords; try again in {wait} s.")
                exc.headers = {"Retry-After": str(wait)}
                raise exc

    def failed(self, username: str, address: str) -> None:
        key = (username.casefold(), address)
        with self._lock:
            if len(self._failures) >= MAX_KEYS and key not in self._failures:
                self._failures.clear()
            self._failures.setdefault(key, deque(maxlen=self.max_failures)).append(self.clock())

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.casefold(), address), None)
