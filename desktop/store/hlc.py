"""Hybrid logical clock: one per device, stamps every field write.

A stamp is "<13-digit wall ms>-<4 hex counter>-<device id>" (see desktop.schema), so
plain string comparison orders stamps and breaks ties by device id.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_COUNTER = 0xFFFF


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def parse(stamp: str) -> tuple[int, int, str]:
    ms, counter, device = stamp.split("-", 2)
    return int(ms), int(counter, 16), device


def format_stamp(ms: int, counter: int, device: str) -> str:
    return f"{ms:013d}-{counter:04x}-{device}"


class HybridClock:
    """Monotonic stamps even when the wall clock steps back; `observe` folds in remote
    stamps so a local write after a merge always outranks what it has seen."""

    def __init__(self, device_id: str, last: str | None = None,
                 now_ms: Callable[[], int] = wall_ms) -> None:
        self.device_id = device_id
        self._now_ms = now_ms
        self._ms, self._counter = (parse(last)[:2] if last else (0, 0))

    @property
    def last(self) -> str:
        return format_stamp(self._ms, self._counter, self.device_id)

    def now(self) -> str:
        wall = self._now_ms()
        if wall > self._ms:
            self._ms, self._counter = wall, 0
        else:
            self._bump()
        return self.last

    def observe(self, stamp: str) -> None:
        ms, counter, _ = parse(stamp)
        if (ms, counter) > (self._ms, self._counter):
            self._ms, self._counter = ms, counter

    def _bump(self) -> None:
        if self._counter >= MAX_COUNTER:
            # 65,536 writes within one millisecond: borrow the next millisecond.
            self._ms, self._counter = self._ms + 1, 0
        else:
            self._counter += 1
